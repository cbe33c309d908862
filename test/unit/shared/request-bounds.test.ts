import { jsonBoundsError, parseJsonBody, REQUEST_LIMITS, requestBoundsError } from '../../../lambdas/shared/http';

describe('request bounds', () => {
  it('names where a JSON body nests too deep, without overflowing the stack at 100,000 levels', () => {
    const text = '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000);
    const error = jsonBoundsError(JSON.parse(text));

    expect(error?.field).toBe(Array.from({ length: REQUEST_LIMITS.jsonDepth }, () => 'a').join('.'));
  });

  it.each([
    { name: 'a key too long', body: { properties: { ['k'.repeat(300)]: 1 } }, field: 'properties' },
    { name: 'a string too long', body: { items: [{ text: 'x'.repeat(REQUEST_LIMITS.stringLength + 1) }] }, field: 'items[0].text' },
    { name: 'arrays nested too deep', body: { list: JSON.parse('['.repeat(40) + ']'.repeat(40)) }, field: `list${'[0]'.repeat(31)}` },
  ])('refuses $name as a 400 naming $field', ({ body, field }) => {
    expect(() => parseJsonBody({ body: JSON.stringify(body) })).toThrow(expect.objectContaining({ name: 'ValidationError', errors: [expect.objectContaining({ field })] }));
  });

  it('accepts a body at every bound', () => {
    const nested = JSON.parse('['.repeat(REQUEST_LIMITS.jsonDepth) + ']'.repeat(REQUEST_LIMITS.jsonDepth));
    expect(jsonBoundsError({ ['k'.repeat(REQUEST_LIMITS.keyLength)]: 'x'.repeat(REQUEST_LIMITS.stringLength) })).toBeUndefined();
    expect(jsonBoundsError(nested)).toBeUndefined();
  });

  it('answers 413 past the body bound and 400 naming the path or query parameter past theirs', () => {
    const ok = { body: 'x'.repeat(REQUEST_LIMITS.bodyBytes), pathParameters: { id: 'i'.repeat(256) }, queryStringParameters: { cursor: 'c'.repeat(4096) } };
    expect(requestBoundsError(ok)).toBeUndefined();
    expect(requestBoundsError({ ...ok, body: 'é'.repeat(REQUEST_LIMITS.bodyBytes / 2 + 1) })).toMatchObject({ name: 'PayloadTooLargeError' });
    expect(requestBoundsError({ ...ok, pathParameters: { id: 'x', snapshotId: 's'.repeat(257) } })).toMatchObject({ errors: [{ field: 'snapshotId' }] });
    expect(requestBoundsError({ ...ok, queryStringParameters: { identity: 'q'.repeat(4097) } })).toMatchObject({ errors: [{ field: 'identity' }] });
  });
});
