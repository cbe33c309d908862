import fc from 'fast-check';
import { matchesPattern, ROUTER_EVENT_PATTERN, type EventPattern } from '../../../lambdas/core/events/pattern';

const event = {
  source: 'shop',
  'detail-type': 'order.placed',
  detail: { total: 120, currency: 'EUR', tags: ['new', 'vip'], nested: { level: 2 }, note: null, sku: 'SKU-123-XL' },
};

const cases: { name: string; pattern: EventPattern; matches: boolean }[] = [
  { name: 'an exact string', pattern: { source: ['shop'] }, matches: true },
  { name: 'another exact string', pattern: { source: ['pos'] }, matches: false },
  { name: 'any of several values', pattern: { source: ['pos', 'shop'] }, matches: true },
  { name: 'every field (and)', pattern: { source: ['shop'], 'detail-type': ['order.shipped'] }, matches: false },
  { name: 'an exact number', pattern: { detail: { total: [120] } }, matches: true },
  { name: 'a number written as a string', pattern: { detail: { total: ['120'] } }, matches: false },
  { name: 'null', pattern: { detail: { note: [null] } }, matches: true },
  { name: 'a prefix', pattern: { detail: { sku: [{ prefix: 'SKU-' }] } }, matches: true },
  { name: 'a prefix that is not one', pattern: { detail: { sku: [{ prefix: 'sku-' }] } }, matches: false },
  { name: 'a prefix on a number', pattern: { detail: { total: [{ prefix: '1' }] } }, matches: false },
  { name: 'a suffix', pattern: { detail: { sku: [{ suffix: '-XL' }] } }, matches: true },
  { name: 'a suffix that is not one', pattern: { detail: { sku: [{ suffix: '-S' }] } }, matches: false },
  { name: 'anything but a value', pattern: { source: [{ 'anything-but': 'pos' }] }, matches: true },
  { name: 'anything but the value itself', pattern: { source: [{ 'anything-but': 'shop' }] }, matches: false },
  { name: 'anything but a list', pattern: { source: [{ 'anything-but': ['pos', 'app'] }] }, matches: true },
  { name: 'anything but a list holding the value', pattern: { source: [{ 'anything-but': ['pos', 'shop'] }] }, matches: false },
  { name: 'anything but numbers', pattern: { detail: { total: [{ 'anything-but': [100, 120] }] } }, matches: false },
  { name: 'anything but a prefix', pattern: { source: [{ 'anything-but': { prefix: 'waymark.' } }] }, matches: true },
  { name: 'anything but the prefix it has', pattern: { source: [{ 'anything-but': { prefix: 'sh' } }] }, matches: false },
  { name: 'anything but, on a missing field', pattern: { detail: { missing: [{ 'anything-but': 'x' }] } }, matches: false },
  { name: 'exists: true on a present field', pattern: { detail: { currency: [{ exists: true }] } }, matches: true },
  { name: 'exists: true on a missing field', pattern: { detail: { coupon: [{ exists: true }] } }, matches: false },
  { name: 'exists: false on a missing field', pattern: { detail: { coupon: [{ exists: false }] } }, matches: true },
  { name: 'exists: false on a present field', pattern: { detail: { currency: [{ exists: false }] } }, matches: false },
  { name: 'a numeric range it is in', pattern: { detail: { total: [{ numeric: ['>', 100, '<=', 120] }] } }, matches: true },
  { name: 'a numeric range it is above', pattern: { detail: { total: [{ numeric: ['>=', 0, '<', 120] }] } }, matches: false },
  { name: 'numeric equality', pattern: { detail: { total: [{ numeric: ['=', 120] }] } }, matches: true },
  { name: 'a numeric range on a string', pattern: { detail: { currency: [{ numeric: ['>', 0] }] } }, matches: false },
  { name: 'a nested field', pattern: { detail: { nested: { level: [2] } } }, matches: true },
  { name: 'a nested field with another value', pattern: { detail: { nested: { level: [3] } } }, matches: false },
  { name: 'a nested pattern where the event has no object', pattern: { detail: { sku: { size: ['XL'] } } }, matches: false },
  { name: 'a nested pattern where the event has nothing', pattern: { detail: { missing: { size: ['XL'] } } }, matches: false },
  { name: 'any element of an array', pattern: { detail: { tags: ['vip'] } }, matches: true },
  { name: 'no element of an array', pattern: { detail: { tags: ['gold'] } }, matches: false },
  { name: 'a prefix on an array element', pattern: { detail: { tags: [{ prefix: 'v' }] } }, matches: true },
  { name: 'an empty pattern', pattern: {}, matches: true },
];

describe('matchesPattern', () => {
  it.each(cases)('$name → $matches', ({ pattern, matches }) => {
    expect(matchesPattern(pattern, event)).toBe(matches);
  });

  it('reads only fields the event has: a field named like an Object.prototype member is absent unless sent', () => {
    for (const name of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) {
      expect(matchesPattern({ detail: { [name]: [{ exists: false }] } }, { detail: {} })).toBe(true);
      expect(matchesPattern({ detail: { [name]: [{ exists: true }] } }, { detail: {} })).toBe(false);
      expect(matchesPattern({ detail: { [name]: ['x'] } }, { detail: JSON.parse(`{"${name}":"x"}`) })).toBe(true);
    }
  });

  it('matches nothing that is not an object', () => {
    for (const value of [null, undefined, 'shop', 42, true]) expect(matchesPattern({ source: ['shop'] }, value)).toBe(false);
  });

  it('matches an exact string exactly when the value is one of the listed strings', () => {
    fc.assert(
      fc.property(fc.string(), fc.array(fc.string(), { minLength: 1, maxLength: 4 }), (value, listed) => {
        expect(matchesPattern({ source: listed }, { source: value })).toBe(listed.includes(value));
        expect(matchesPattern({ source: [{ 'anything-but': listed }] }, { source: value })).toBe(!listed.includes(value));
      }),
    );
  });

  it('matches a prefix and anything-but that prefix on complementary strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 6 }), fc.string({ maxLength: 3 }), (value, prefix) => {
        const has = matchesPattern({ source: [{ prefix }] }, { source: value });
        expect(has).toBe(value.startsWith(prefix));
        expect(matchesPattern({ source: [{ 'anything-but': { prefix } }] }, { source: value })).toBe(!has);
      }),
    );
  });

  it('matches a numeric range exactly for the numbers inside it', () => {
    fc.assert(
      fc.property(fc.integer({ min: -50, max: 50 }), fc.integer({ min: -50, max: 50 }), fc.integer({ min: -50, max: 50 }), (value, low, high) => {
        expect(matchesPattern({ n: [{ numeric: ['>=', low, '<', high] }] }, { n: value })).toBe(value >= low && value < high);
      }),
    );
  });
});

describe('ROUTER_EVENT_PATTERN', () => {
  it.each([
    ['shop', true],
    ['com.example.crm', true],
    ['waymarks', true],
    ['waymark.profiles', false],
    ['waymark.api', false],
  ])('source %s → %s', (source, routed) => {
    expect(matchesPattern(ROUTER_EVENT_PATTERN, { source, 'detail-type': 'x', detail: {} })).toBe(routed);
  });
});
