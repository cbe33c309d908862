import { PUT_EVENTS_LIMITS, putEventsBatches, putEventsEntrySize } from '../../../lambdas/core/events/entry-size';

describe('PutEvents entry size and batches', () => {
  it('counts Time as 14 bytes and Source, DetailType, Detail and Resources in UTF-8 bytes', () => {
    expect(putEventsEntrySize({ Source: 'shop', DetailType: 'order.placed', Detail: '{"a":"é"}', Resources: ['arn:x'], Time: new Date() })).toBe(14 + 4 + 12 + 10 + 5);
    expect(putEventsEntrySize({ Source: 'shop', DetailType: 't' })).toBe(5);
  });

  it('splits entries into requests of at most 10 entries and 256 KB, keeping their order', () => {
    const small = Array.from({ length: 23 }, (_, i) => ({ Source: 's', DetailType: 't', Detail: `{"i":${i}}` }));
    expect(putEventsBatches(small).map((b) => b.length)).toEqual([10, 10, 3]);
    const big = (i: number) => ({ Source: 's', DetailType: 't', Detail: JSON.stringify({ i, blob: 'x'.repeat(100 * 1024) }) });
    const batches = putEventsBatches([big(0), big(1), big(2), big(3), big(4)]);

    expect(batches.map((b) => b.map((e) => JSON.parse(e.Detail).i))).toEqual([[0, 1], [2, 3], [4]]);
    for (const batch of batches) expect(batch.reduce((sum, e) => sum + putEventsEntrySize(e), 0)).toBeLessThanOrEqual(PUT_EVENTS_LIMITS.requestBytes);
  });
});
