import fc from 'fast-check';
import type { SegmentProfile } from '../../../lambdas/core/segments/context';
import type { Field, PropertyCondition, Rule } from '../../../lambdas/core/segments/rule';

/** Small vocabularies so random rules and random profiles actually meet. */
export const ATTRIBUTE_NAMES = ['tier', 'age', 'email', 'signedUpAt', 'birthday', 'constructor'] as const;
export const EVENT_TYPES = ['order.placed', 'cart.updated', 'page.viewed'] as const;
export const PROPERTY_NAMES = ['total', 'sku', 'toString'] as const;
export const SEGMENT_IDS = ['vip', 'churn-risk', 'new'] as const;

const DAY = 86_400_000;
/** 2020-01-01 to 2030-01-01: spans leap years and plenty of year ends. */
export const nowArb = fc.oneof(
  fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) }),
  // Around year ends and the end of February, where anniversaries wrap and 29 February moves.
  fc.tuple(fc.integer({ min: 2020, max: 2029 }), fc.constantFrom([1, 20], [1, 27], [1, 28], [2, 1], [11, 28], [11, 31], [0, 1]), fc.integer({ min: 0, max: DAY - 1 })).map(
    ([year, [month, day], ms]) => Date.UTC(year, month, day) + ms,
  ),
);

const stringValue = fc.constantFrom('gold', 'Gold', 'silver', 'GOLDEN', 'a@example.com', 'SKU-1', 'sku-12', '', 'İstanbul', 'straße');
const numberValue = fc.oneof(fc.integer({ min: -5, max: 100 }), fc.constantFrom(0, -0, 0.5, 50, 51));
/** Times as the profile holds them: normalised ISO, date-only, with offsets, epoch numbers, and near misses. */
const SPANS = [DAY, 7 * DAY, 30 * DAY, 90 * 60_000, 24 * 3_600_000];
export const timeValue = (now: number) =>
  fc.oneof(
    // Exactly on, or a millisecond either side of, a window boundary.
    { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...SPANS), fc.constantFrom(-1, 1), fc.constantFrom(-1, 0, 1), fc.boolean()).map(([span, sign, nudge, iso]) => {
      const t = now + sign * span + nudge;
      return iso ? new Date(t).toISOString() : t;
    }) },
    fc.constantFrom(now, now - 1, now + 1),
    fc.integer({ min: -40 * DAY, max: 40 * DAY }).map((d) => new Date(now + d).toISOString()),
    fc.integer({ min: -400 * DAY, max: 400 * DAY }).map((d) => new Date(now + d).toISOString().slice(0, 10)),
    fc.integer({ min: -40 * DAY, max: 40 * DAY }).map((d) => now + d),
    fc.constantFrom('1992-02-29', '1990-12-31', '1991-01-01', '2023-02-29', '2023-02-30', '2024-13-01', '2024-01-01T10:00:00+05:30', '2024-01-01T10:00:00.5Z', '2024-01-01T10:00Z', '2024-01-01T25:00:00Z', '2024-01-01T10:00:00', 'yesterday', '2024-1-1'),
    fc.integer({ min: -60 * 24, max: 60 * 24 }).map((m) => {
      const d = new Date(now + m * 60_000);
      const off = ['+02:00', '-05:00', '+14:00', '-00:30'][Math.abs(m) % 4];
      return `${d.toISOString().slice(0, 19)}${off}`;
    }),
    fc.constantFrom(1.5, Number.MAX_SAFE_INTEGER, -1),
  );

const scalar = fc.oneof(stringValue, numberValue, fc.boolean());
const ordered = fc.oneof(stringValue, numberValue);

const fieldArb: fc.Arbitrary<Field> = fc.oneof(
  fc.constantFrom(...ATTRIBUTE_NAMES).map((name) => ({ kind: 'attribute' as const, name })),
  fc.record({ kind: fc.constant('computed' as const), event: fc.constantFrom(...EVENT_TYPES), stat: fc.constantFrom('count' as const, 'firstSeen' as const, 'lastSeen' as const) }),
  fc.record({ kind: fc.constant('computed' as const), event: fc.constantFrom(...EVENT_TYPES), stat: fc.constant('sum' as const), property: fc.constantFrom(...PROPERTY_NAMES) }),
);

type Predicate = PropertyCondition extends infer T ? (T extends unknown ? Omit<T, 'property'> : never) : never;
const predicateArb: fc.Arbitrary<Predicate> = fc.oneof(
  scalar.map((value) => ({ kind: 'equals' as const, value })),
  scalar.map((value) => ({ kind: 'notEquals' as const, value })),
  ordered.map((value) => ({ kind: 'greater' as const, value })),
  ordered.map((value) => ({ kind: 'less' as const, value })),
  fc.oneof(fc.tuple(numberValue, numberValue), fc.tuple(stringValue, stringValue)).map(([a, b]) => ({ kind: 'between' as const, min: a < b ? a : b, max: a < b ? b : a })),
  fc.array(scalar, { minLength: 1, maxLength: 4 }).map((values) => ({ kind: 'in' as const, values })),
  fc.record({ kind: fc.constant('contains' as const), value: fc.constantFrom('old', 'OL', '@', 'ss', 'i', 'sku'), ignoreCase: fc.option(fc.boolean(), { nil: undefined }) }),
  fc.record({ kind: fc.constant('startsWith' as const), value: fc.constantFrom('g', 'G', 'sku', 'SKU', 'i'), ignoreCase: fc.option(fc.boolean(), { nil: undefined }) }),
  fc.constant({ kind: 'exists' as const }),
);

const durationArb = fc.constantFrom('1d', '7d', '24h', '30d', '90m', '1w');

export const leafArb: fc.Arbitrary<Rule> = fc.oneof(
  fc.tuple(fieldArb, predicateArb).map(([field, p]) => ({ ...p, field }) as Rule),
  fc.record({ kind: fc.constantFrom('withinLast' as const, 'withinNext' as const), field: fieldArb, duration: durationArb }),
  fc.record({ kind: fc.constant('anniversary' as const), field: fieldArb, direction: fc.constantFrom('next' as const, 'last' as const), days: fc.integer({ min: 0, max: 10 }) }),
  fc
    .record(
      {
        kind: fc.constant('event' as const),
        type: fc.constantFrom(...EVENT_TYPES),
        within: durationArb,
        where: fc.array(fc.tuple(fc.constantFrom(...PROPERTY_NAMES), predicateArb).map(([property, p]) => ({ ...p, property }) as PropertyCondition), { maxLength: 2 }),
        atLeast: fc.integer({ min: 0, max: 3 }),
        atMost: fc.integer({ min: 3, max: 5 }),
      },
      { requiredKeys: ['kind', 'type'] },
    ),
  fc.constantFrom(...SEGMENT_IDS).map((id) => ({ kind: 'segment' as const, id })),
);

export const ruleArb: fc.Arbitrary<Rule> = fc.letrec<{ rule: Rule }>((tie) => ({
  rule: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafArb,
    fc.array(tie('rule'), { minLength: 1, maxLength: 4 }).map((rules) => ({ kind: 'all' as const, rules })),
    fc.array(tie('rule'), { minLength: 1, maxLength: 4 }).map((rules) => ({ kind: 'any' as const, rules })),
    tie('rule').map((rule) => ({ kind: 'not' as const, rule })),
  ),
})).rule;

const propertiesArb = (now: number) =>
  fc.dictionary(fc.constantFrom(...PROPERTY_NAMES), fc.oneof(scalar, fc.constant(null), timeValue(now).filter((v) => typeof v === 'string')), { maxKeys: 3 }).map((a) => ({ ...a }));

export const profileArb = (now: number): fc.Arbitrary<SegmentProfile> =>
  fc.record(
    {
      // Plain objects (fast-check may build null-prototype ones), so a missing `constructor` would read Object.prototype's.
      attributes: fc.dictionary(fc.constantFrom(...ATTRIBUTE_NAMES), fc.oneof(scalar, fc.constant(null), timeValue(now)), { maxKeys: 6 }).map((a) => ({ ...a })),
      computed: fc.dictionary(
        fc.constantFrom(...EVENT_TYPES),
        fc.record({
          count: fc.nat(10),
          firstSeen: timeValue(now).map(String),
          lastSeen: timeValue(now).map(String),
          sums: fc.dictionary(fc.constantFrom(...PROPERTY_NAMES), numberValue, { maxKeys: 2 }).map((a) => ({ ...a })),
        }),
        { maxKeys: 3 },
      ),
      recentEvents: fc.array(
        fc.record({
          id: fc.uuid(),
          type: fc.constantFrom(...EVENT_TYPES),
          time: fc.oneof(fc.integer({ min: -35 * DAY, max: DAY }).map((d) => new Date(now + d).toISOString()), timeValue(now).map((t) => (typeof t === 'number' && Math.abs(t) <= 8.64e15 ? new Date(t).toISOString() : String(t)))),
          source: fc.constant('shop'),
          properties: propertiesArb(now),
          receivedAt: fc.constant(new Date(now).toISOString()),
        }),
        { maxLength: 8 },
      ),
    },
    { requiredKeys: ['attributes'] },
  );

export const membershipsArb = fc.subarray([...SEGMENT_IDS]).map((ids) => new Set<string>(ids));

export const caseArb = nowArb.chain((now) => fc.record({ now: fc.constant(now), profile: profileArb(now), memberships: membershipsArb }));
