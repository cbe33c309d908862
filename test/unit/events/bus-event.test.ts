import fc from 'fast-check';
import { parseBusEvent, parseEventBridgeEvent } from '../../../lambdas/core/events/bus-event';
import { BusinessEvent, formatIssues, type EventBridgeEvent } from '../../../lambdas/core/events/business-event';

/** The schema's verdict on a bus event (what the router used before its hand-written check). */
function bySchema(event: EventBridgeEvent) {
  const detail = event.detail && typeof event.detail === 'object' ? (event.detail as Record<string, unknown>) : {};
  const parsed = BusinessEvent.safeParse({ id: event.id, time: event.time, ...detail, type: event['detail-type'], source: event.source });
  if (parsed.success) return { ok: true as const, value: parsed.data };
  const busField: Record<string, string> = { 'detail.type': 'detail-type', 'detail.source': 'source' };
  return { ok: false as const, errors: formatIssues(parsed.error.issues, 'detail').map((e) => ({ ...e, field: busField[e.field] ?? e.field })) };
}

// Each field mostly valid (or absent), else wrong in one of the ways a sender gets it wrong: one wrong field alone is common.
const field = <T>(valid: fc.Arbitrary<T>, ...wrong: fc.Arbitrary<unknown>[]) =>
  fc.oneof({ weight: 8, arbitrary: fc.option(valid, { nil: undefined, freq: 2 }) }, ...wrong.map((arbitrary) => ({ weight: 1, arbitrary })));
const text = fc.string({ maxLength: 6 });
const anything = fc.oneof(fc.constant(null), fc.integer(), fc.boolean(), fc.constant([]), fc.constant({}), text);
const record = <K extends string>(keys: fc.Arbitrary<K>, value: fc.Arbitrary<unknown>, badKeys: string[], badValues: fc.Arbitrary<unknown>, most: number) =>
  field(
    fc.dictionary(keys, value, { minKeys: 1, maxKeys: 3 }),
    fc.dictionary(fc.oneof(keys, fc.constantFrom(...badKeys)), fc.oneof(value, badValues), { maxKeys: 3 }),
    fc.dictionary(fc.integer({ min: 0, max: 99 }).map((i) => `k${i}`), value, { minKeys: most - 2, maxKeys: most + 3 }),
    anything,
  );
const number = fc.oneof(fc.integer(), fc.constantFrom(0.5, 0));
const detail = fc.record(
  {
    id: field(fc.string({ minLength: 1, maxLength: 3 }), fc.constantFrom('', 'x'.repeat(129)), anything),
    time: field(fc.constantFrom('2026-06-01T12:00:00Z', '2026-06-01T12:00:00.5+02:00'), fc.constantFrom('2026-06-01T12:00:00', '2026-02-30T12:00:00Z', 'now'), anything),
    catalog: field(fc.constant(true), fc.constantFrom(false, 'true')),
    identities: record(fc.constantFrom('email', 'crmId', 'constructor', '__proto__'), fc.constantFrom('ada@example.com', 'x'), ['e-mail', '1x', '', 'a b'], fc.constantFrom('', 'x'.repeat(257), 42, null), 20),
    attributes: record(fc.constantFrom('tier', 'first_name', 'toString'), fc.oneof(text, number, fc.boolean(), fc.constant(null)), ['a b', '1x', ''], fc.constantFrom('é'.repeat(513), { a: 1 }, [1], 1e300), 50),
    properties: field(fc.dictionary(text, fc.oneof(text, number, fc.constant([1, { a: 'b' }]))), fc.constant({ total: 1e300, nested: [{ n: -1e-200 }] }), anything),
    consent: record(fc.constantFrom('email', 'push', 'list:news'), fc.constantFrom('opted-in', 'opted-out'), ['fax', 'list:', ''], fc.constantFrom('maybe', 1), 16),
  },
  { requiredKeys: [] },
);
const busEvent: fc.Arbitrary<EventBridgeEvent> = fc.record({
  id: fc.constantFrom('eb-1', 'eb-1', ''),
  'detail-type': fc.constantFrom('order.placed', 'order.placed', '1-order placed', 'a'.repeat(129)),
  source: fc.constantFrom('shop', 'shop', ''),
  time: fc.constantFrom('2026-06-01T12:00:00Z', '2026-06-01T12:00:00Z', 'now'),
  detail: fc.oneof({ weight: 10, arbitrary: detail }, { weight: 1, arbitrary: anything }),
});

describe('the router check of a bus event, by hand', () => {
  it('agrees with the BusinessEvent schema: same verdict, same event, the same fields named', () => {
    fc.assert(
      fc.property(busEvent, (event) => {
        const expected = bySchema(event);
        const actual = parseBusEvent(event);
        expect(actual.ok).toBe(expected.ok);
        if (actual.ok && expected.ok) {
          expect(actual.value).toEqual(expected.value);
          expect(Object.getPrototypeOf(actual.value.identities)).toBeNull();
        }
        if (!actual.ok && !expected.ok) {
          expect(new Set(actual.errors.map((e) => e.field))).toEqual(new Set(expected.errors.map((e) => e.field)));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps a __proto__ identity as data, in a null-prototype record', () => {
    const result = parseBusEvent({ id: 'e', 'detail-type': 'a', source: 's', time: '2026-06-01T12:00:00Z', detail: JSON.parse('{"identities":{"__proto__":"x"}}') });
    expect(result.ok ? Object.keys(result.value.identities) : []).toEqual([]);
  });
});

describe('the EventBridge envelope', () => {
  it.each([
    ['a string', 'event', '(event)'],
    ['no id', { 'detail-type': 'a', source: 's', time: 't' }, 'id'],
    ['a numeric detail-type', { id: 'e', 'detail-type': 1, source: 's', time: 't' }, 'detail-type'],
    ['no source', { id: 'e', 'detail-type': 'a', time: 't' }, 'source'],
    ['a null time', { id: 'e', 'detail-type': 'a', source: 's', time: null }, 'time'],
  ])('rejects %s, naming %s', (_case, raw, field) => {
    const result = parseEventBridgeEvent(raw);
    expect(result.ok ? [] : result.errors.map((e) => e.field)).toEqual([field]);
  });

  it('keeps the fields the router reads and drops the others', () => {
    const raw = { id: 'e', 'detail-type': 'a', source: 's', time: 't', detail: { x: 1 }, account: '1', resources: [] };
    expect(parseEventBridgeEvent(raw)).toEqual({ ok: true, value: { id: 'e', 'detail-type': 'a', source: 's', time: 't', detail: { x: 1 } } });
  });
});
