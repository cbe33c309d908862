import fc from 'fast-check';
import type { BusinessEvent } from '../../../lambdas/core/events/business-event';

/** Small pools, so that generated events collide on identities, attribute names, times and sources. */
export const NAMESPACES = ['email', 'phone', 'deviceId'] as const;
export const VALUES = ['1', '2', '3'] as const;
export const SOURCES = ['shop', 'crm', 'app'] as const;
const TYPES = ['order.placed', 'page.viewed'] as const;
const TIMES = ['2026-01-01T10:00:00.000Z', '2026-01-01T11:00:00.000Z', '2026-01-02T09:30:00.000Z', '2026-01-03T00:00:00.000Z'];

export const identitiesArb = fc
  .uniqueArray(fc.constantFrom(...NAMESPACES), { minLength: 1, maxLength: 3 })
  .chain((namespaces) => fc.tuple(...namespaces.map((ns) => fc.constantFrom(...VALUES).map((v) => [ns, `${ns}-${v}`] as const))))
  .map((pairs) => Object.fromEntries(pairs) as Record<string, string>);

/** An event body without its id (ids are assigned so that generated sets have distinct ids). */
export const eventBodyArb = fc.record({
  type: fc.constantFrom(...TYPES),
  source: fc.constantFrom(...SOURCES),
  time: fc.constantFrom(...TIMES),
  identities: identitiesArb,
  attributes: fc.option(fc.dictionary(fc.constantFrom('tier', 'city'), fc.oneof(fc.constantFrom('gold', 'silver', 'Berlin'), fc.integer({ min: 0, max: 3 }), fc.constant(null))), { nil: undefined }),
  consent: fc.option(fc.dictionary(fc.constantFrom('email', 'sms', 'list:news'), fc.constantFrom('opted-in' as const, 'opted-out' as const)), { nil: undefined }),
  // Integers only: float sums depend on the order of additions, which is not what these properties are about.
  properties: fc.record({ total: fc.integer({ min: 0, max: 500 }), items: fc.integer({ min: 1, max: 5 }), note: fc.constant('x') }, { requiredKeys: [] }),
});

export const eventsArb = (options: { minLength?: number; maxLength: number }) =>
  fc.array(eventBodyArb, { minLength: options.minLength ?? 0, maxLength: options.maxLength }).map((bodies) => bodies.map((body, i): BusinessEvent => ({ id: `e${i}`, ...body })));
