import fc from 'fast-check';
import { isStorableNumber } from '../../../lambdas/core/events/numbers';
import { toEntry } from '../../../lambdas/adapters/eventbridge';
import { parseApiEvent, parseBusEvent, type BusinessEvent, type EventBridgeEvent } from '../../../lambdas/core/events/business-event';

const API_DEFAULTS = { id: 'req-1', time: '2026-06-01T12:00:00.000Z', source: 'api' };

function busEvent(detail: unknown, overrides: Partial<EventBridgeEvent> = {}): EventBridgeEvent {
  return { id: 'eb-1', 'detail-type': 'order.placed', source: 'shop', time: '2026-06-01T12:00:00Z', detail, ...overrides };
}

const fields = (result: ReturnType<typeof parseBusEvent>) => (result.ok ? [] : result.errors.map((e) => e.field));

describe('parseBusEvent', () => {
  const identities = { email: 'ada@example.com' };
  const bad: { name: string; event: EventBridgeEvent; field: string }[] = [
    { name: 'no identities', event: busEvent({}), field: 'detail.identities' },
    { name: 'a detail that is not an object', event: busEvent('ada@example.com'), field: 'detail.identities' },
    { name: 'a null detail', event: busEvent(null), field: 'detail.identities' },
    { name: 'empty identities', event: busEvent({ identities: {} }), field: 'detail.identities' },
    { name: 'an identity namespace that is not a name', event: busEvent({ identities: { 'e-mail': 'a' } }), field: 'detail.identities.e-mail' },
    { name: 'an empty identity value', event: busEvent({ identities: { email: '' } }), field: 'detail.identities.email' },
    { name: 'more than 20 identities', event: busEvent({ identities: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`id${i}`, 'x'])) }), field: 'detail.identities' },
    { name: 'an attribute name that is not an identifier', event: busEvent({ identities, attributes: { 'first name': 'Ada' } }), field: 'detail.attributes.first name' },
    { name: 'an attribute value that is an object', event: busEvent({ identities, attributes: { address: { city: 'Berlin' } } }), field: 'detail.attributes.address' },
    { name: 'an attribute string over 4096 characters', event: busEvent({ identities, attributes: { bio: 'x'.repeat(4097) } }), field: 'detail.attributes.bio' },
    { name: 'an attribute string over 1024 bytes (in UTF-8)', event: busEvent({ identities, attributes: { bio: 'é'.repeat(513) } }), field: 'detail.attributes.bio' },
    { name: 'more than 50 attributes', event: busEvent({ identities, attributes: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`a${i}`, i])) }), field: 'detail.attributes' },
    { name: 'more than 16 consent keys', event: busEvent({ identities, consent: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`list:l${i}`, 'opted-out'])) }), field: 'detail.consent' },
    { name: 'properties that are a list', event: busEvent({ identities, properties: [1] }), field: 'detail.properties' },
    { name: 'an unknown consent key', event: busEvent({ identities, consent: { fax: 'opted-in' } }), field: 'detail.consent.fax' },
    { name: 'an unknown consent status', event: busEvent({ identities, consent: { email: 'maybe' } }), field: 'detail.consent.email' },
    { name: 'a time in detail that is not ISO 8601', event: busEvent({ identities, time: 'yesterday' }), field: 'detail.time' },
    { name: 'an empty id in detail', event: busEvent({ identities, id: '' }), field: 'detail.id' },
    { name: 'an envelope time that is not ISO 8601', event: busEvent({ identities }, { time: 'now' }), field: 'detail.time' },
    { name: 'an empty source', event: busEvent({ identities }, { source: '' }), field: 'source' },
  ];

  it.each(bad)('rejects $name, naming $field', ({ event, field }) => {
    expect(fields(parseBusEvent(event))).toContain(field);
  });

  // Product bug: a bad `detail-type` is reported as `detail.type`, a field the client cannot set (it is overwritten
  // by the bus's detail-type), so the rejected-events list points at the wrong place.
  it('rejects a detail-type that is not an event type, naming detail-type', () => {
    expect(fields(parseBusEvent(busEvent({ identities }, { 'detail-type': '1-order placed' })))).toEqual(['detail-type']);
  });

  it('rejects a detail-type that is not an event type', () => {
    const result = parseBusEvent(busEvent({ identities }, { 'detail-type': '1-order placed' }));
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.errors[0].message).toMatch(/event type/);
  });

  it('takes type and source from the bus, id and time from detail, else from the bus', () => {
    const fromDetail = parseBusEvent(busEvent({ identities, id: 'evt-9', time: '2026-05-31T10:00:00.123+02:00', type: 'ignored', source: 'ignored' }));
    expect(fromDetail).toEqual({ ok: true, value: { id: 'evt-9', type: 'order.placed', source: 'shop', time: '2026-05-31T10:00:00.123+02:00', identities, properties: {} } });
    const fromBus = parseBusEvent(busEvent({ identities }));
    expect(fromBus).toEqual({ ok: true, value: { id: 'eb-1', type: 'order.placed', source: 'shop', time: '2026-06-01T12:00:00Z', identities, properties: {} } });
  });
});

describe('parseApiEvent', () => {
  const identities = { email: 'ada@example.com' };
  const bad: { name: string; body: unknown; field: string }[] = [
    { name: 'no body', body: undefined, field: '(body)' },
    { name: 'a list', body: [{ type: 'order.placed', identities }], field: '(body)' },
    { name: 'a string', body: 'order.placed', field: '(body)' },
    { name: 'no type', body: { identities }, field: 'type' },
    { name: 'a type with spaces', body: { type: 'order placed', identities }, field: 'type' },
    { name: 'a type over 128 characters', body: { type: `a${'b'.repeat(128)}`, identities }, field: 'type' },
    { name: 'no identities', body: { type: 'order.placed' }, field: 'identities' },
    { name: 'a time without a zone', body: { type: 'order.placed', identities, time: '2026-06-01T12:00:00' }, field: 'time' },
    { name: 'an id over 128 characters', body: { type: 'order.placed', identities, id: 'x'.repeat(129) }, field: 'id' },
    { name: 'a numeric identity', body: { type: 'order.placed', identities: { crmId: 42 } }, field: 'identities.crmId' },
  ];

  it.each(bad)('rejects $name, naming $field', ({ body, field }) => {
    const result = parseApiEvent(body, API_DEFAULTS);
    expect(result.ok ? [] : result.errors.map((e) => e.field)).toContain(field);
  });

  it('fills id, time and source from the request when the body leaves them out', () => {
    expect(parseApiEvent({ type: 'order.placed', identities }, API_DEFAULTS)).toEqual({
      ok: true,
      value: { id: 'req-1', time: '2026-06-01T12:00:00.000Z', source: 'api', type: 'order.placed', identities, properties: {} },
    });
  });
});

describe('catalog events', () => {
  it('accepts an event of no customer marked "catalog": true, with no identities', () => {
    const result = parseBusEvent(busEvent({ id: 'evt-2', catalog: true, properties: { productId: 'sku-2' } }, { 'detail-type': 'price.dropped' }));
    expect(result).toEqual({
      ok: true,
      value: { id: 'evt-2', type: 'price.dropped', source: 'shop', time: '2026-06-01T12:00:00Z', catalog: true, identities: {}, properties: { productId: 'sku-2' } },
    });
    expect(parseApiEvent({ type: 'product.restocked', catalog: true, properties: { productId: 'sku-1' } }, API_DEFAULTS).ok).toBe(true);
  });

  it.each([
    { name: 'identities', detail: { identities: { crmId: 'catalog' } } },
    { name: 'attributes', detail: { attributes: { tier: 'gold' } } },
    { name: 'consent', detail: { consent: { email: 'opted-in' } } },
  ])('rejects a catalog event with $name, naming the field', ({ name, detail }) => {
    expect(fields(parseBusEvent(busEvent({ catalog: true, ...detail })))).toEqual([`detail.${name}`]);
  });

  it('rejects a catalog flag other than true', () => {
    expect(fields(parseBusEvent(busEvent({ catalog: false })))).toContain('detail.catalog');
  });
});

// Generated envelopes, valid by construction.
const key = (pattern: RegExp) => fc.stringMatching(pattern).filter((k) => k !== '__proto__'); // zod drops a `__proto__` record key
const offsetTime = fc
  .tuple(fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2090, 0, 1) }), fc.integer({ min: -12 * 60, max: 14 * 60 }), fc.boolean())
  .map(([ms, offsetMinutes, withMillis]) => {
    if (offsetMinutes === 0) return new Date(ms).toISOString();
    const local = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, withMillis ? 23 : 19);
    const abs = Math.abs(offsetMinutes);
    return `${local}${offsetMinutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  });
// Valid envelopes carry numbers DynamoDB can store (core/events/numbers.ts); the others are refused, tested below.
const number = fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? 0 : n)).filter(isStorableNumber);
// JSON has no -0: a generated -0 is written as 0 (the wire's doing, not the router's).
const jsonValue = fc
  .jsonValue({ maxDepth: 3 })
  .map((v) => JSON.parse(JSON.stringify(v)) as unknown)
  .filter(storable);
function storable(v: unknown): boolean {
  if (typeof v === 'number') return isStorableNumber(v);
  if (Array.isArray(v)) return v.every(storable);
  return v === null || typeof v !== 'object' || Object.values(v).every(storable);
}
const attributeValue = fc.oneof(fc.string({ maxLength: 40 }), number, fc.boolean(), fc.constant(null));
const consentKey = fc.oneof(fc.constantFrom('email', 'sms', 'push'), fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/).map((id) => `list:${id}`));
const envelope: fc.Arbitrary<BusinessEvent> = fc.record(
  {
    id: fc.string({ minLength: 1, maxLength: 128 }),
    type: fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.:-]{0,127}$/),
    source: fc.string({ minLength: 1, maxLength: 256 }),
    time: offsetTime,
    identities: fc.dictionary(key(/^[A-Za-z][A-Za-z0-9_]{0,31}$/), fc.string({ minLength: 1, maxLength: 256 }), { minKeys: 1, maxKeys: 20 }),
    attributes: fc.dictionary(key(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/), attributeValue, { maxKeys: 5 }),
    properties: fc.dictionary(fc.string().filter((k) => k !== '__proto__'), jsonValue, { maxKeys: 5 }),
    consent: fc.dictionary(consentKey, fc.constantFrom('opted-in' as const, 'opted-out' as const), { maxKeys: 3 }),
  },
  { requiredKeys: ['id', 'type', 'source', 'time', 'identities', 'properties'] },
);

/** What EventBridge delivers for a PutEvents entry: its own id and a second-precision time, the detail parsed. */
function delivered(entry: ReturnType<typeof toEntry>): EventBridgeEvent {
  return { id: 'b6b2e5c8-0000-4000-8000-000000000000', 'detail-type': entry.DetailType, source: entry.Source, time: entry.Time.toISOString().replace(/\.\d{3}Z$/, 'Z'), detail: JSON.parse(entry.Detail) };
}

describe('business-event envelopes (properties)', () => {
  it('parses any valid envelope, posted to the API or carried in detail', () => {
    fc.assert(
      fc.property(envelope, (event) => {
        expect(parseApiEvent(event, API_DEFAULTS)).toEqual({ ok: true, value: event });
        const { type, source, ...detail } = event;
        expect(parseBusEvent(busEvent(detail, { 'detail-type': type, source }))).toEqual({ ok: true, value: event });
      }),
    );
  });

  it('round-trips unchanged through the EventBridge publisher entry and the router', () => {
    fc.assert(
      fc.property(envelope, (event) => {
        const entry = toEntry(event, 'waymark-bus');
        expect(entry.EventBusName).toBe('waymark-bus');
        expect(parseBusEvent(delivered(entry))).toEqual({ ok: true, value: event });
      }),
    );
  });
});

describe('numbers in an event', () => {
  it.each([1e-200, 1e300, -1e22, 5e-324])('refuses %p in properties or attributes, naming the field (DynamoDB could not store it)', (n) => {
    const parsed = parseApiEvent({ type: 'a', identities: { email: 'a@example.com' }, properties: { nested: [{ n }] }, attributes: { n } }, API_DEFAULTS);

    expect(parsed.ok ? [] : parsed.errors.map((e) => e.field).sort()).toEqual(['attributes.n', 'properties.nested.0.n']);
  });
});
