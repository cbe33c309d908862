import { compileRule } from '../../../lambdas/core/segments/compile';
import type { SegmentProfile } from '../../../lambdas/core/segments/context';
import { referenceEvaluate } from '../../../lambdas/core/segments/reference';
import { parseRule, parseSegment, type Rule } from '../../../lambdas/core/segments/rule';

const attr = (name: string) => ({ kind: 'attribute' as const, name });
const NOW = Date.parse('2026-03-15T12:00:00.000Z');
const profile: SegmentProfile = {
  attributes: { tier: 'Gold', age: 42, vip: true, nothing: null, email: 'Ann@Example.com', code: '42', signedUpAt: '2026-03-10T09:00:00Z', count: 7 },
  computed: { 'order.placed': { count: 3, firstSeen: '2026-01-01T00:00:00.000Z', lastSeen: '2026-03-14T00:00:00.000Z', sums: { total: 180 } } },
  recentEvents: [
    { id: 'e3', type: 'cart.updated', time: '2026-03-15T08:00:00.000Z', source: 'shop', properties: { cartId: 'c1' }, receivedAt: '2026-03-15T08:00:00.000Z' },
    { id: 'e2', type: 'order.placed', time: '2026-03-14T00:00:00.000Z', source: 'shop', properties: { total: 80 }, receivedAt: '2026-03-14T00:00:00.000Z' },
    { id: 'e1', type: 'order.placed', time: '2026-03-01T00:00:00.000Z', source: 'shop', properties: { total: 60 }, receivedAt: '2026-03-01T00:00:00.000Z' },
    { id: 'e0', type: 'order.placed', time: '2026-01-01T00:00:00.000Z', source: 'shop', properties: { total: 40 }, receivedAt: '2026-01-01T00:00:00.000Z' },
  ],
};

/** Both evaluators, so each row checks the semantics once and their agreement once. */
function evaluate(rule: Rule, p: SegmentProfile = profile, now = NOW, memberships: string[] = []): boolean {
  const parsed = parseRule(rule);
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  const context = { now, memberships: new Set(memberships) };
  const reference = referenceEvaluate(parsed.value, p, context);
  expect(compileRule(parsed.value)(p, context)).toBe(reference);
  return reference;
}

describe('segment rule semantics', () => {
  it.each<[string, Rule, boolean]>([
    ['equals compares type and value', { kind: 'equals', field: attr('tier'), value: 'Gold' }, true],
    ['equals is case sensitive', { kind: 'equals', field: attr('tier'), value: 'gold' }, false],
    ['equals does not coerce a numeric string', { kind: 'equals', field: attr('code'), value: 42 }, false],
    ['equals is false for a missing attribute', { kind: 'equals', field: attr('missing'), value: 'x' }, false],
    ['notEquals is true for a missing attribute', { kind: 'notEquals', field: attr('missing'), value: 'x' }, true],
    ['notEquals is true across types', { kind: 'notEquals', field: attr('code'), value: 42 }, true],
    ['greater on numbers', { kind: 'greater', field: attr('age'), value: 41 }, true],
    ['greater is strict', { kind: 'greater', field: attr('age'), value: 42 }, false],
    ['greater is false across types', { kind: 'greater', field: attr('code'), value: 1 }, false],
    ['less on strings orders ISO times', { kind: 'less', field: attr('signedUpAt'), value: '2026-03-11' }, true],
    ['less is false for null', { kind: 'less', field: attr('nothing'), value: 1 }, false],
    ['between includes both ends', { kind: 'between', field: attr('age'), min: 42, max: 42 }, true],
    ['between is false outside', { kind: 'between', field: attr('age'), min: 43, max: 50 }, false],
    ['in matches one of the values', { kind: 'in', field: attr('tier'), values: ['Silver', 'Gold'] }, true],
    ['in does not coerce', { kind: 'in', field: attr('age'), values: ['42'] }, false],
    ['contains is case sensitive by default', { kind: 'contains', field: attr('email'), value: 'example' }, false],
    ['contains ignores case when asked', { kind: 'contains', field: attr('email'), value: 'EXAMPLE', ignoreCase: true }, true],
    ['contains is false for numbers', { kind: 'contains', field: attr('age'), value: '4' }, false],
    ['startsWith', { kind: 'startsWith', field: attr('email'), value: 'Ann@' }, true],
    ['startsWith ignoring case', { kind: 'startsWith', field: attr('email'), value: 'ann', ignoreCase: true }, true],
    ['exists is true for false-y values', { kind: 'exists', field: attr('count') }, true],
    ['exists is false for null', { kind: 'exists', field: attr('nothing') }, false],
    ['exists does not see Object.prototype', { kind: 'exists', field: attr('constructor') }, false],
    ['computed count of a dotted event type', { kind: 'equals', field: { kind: 'computed', event: 'order.placed', stat: 'count' }, value: 3 }, true],
    ['computed sum', { kind: 'greater', field: { kind: 'computed', event: 'order.placed', stat: 'sum', property: 'total' }, value: 150 }, true],
    ['computed of an event type never seen is missing', { kind: 'exists', field: { kind: 'computed', event: 'refund.issued', stat: 'count' } }, false],
    ['computed lastSeen within the last 2 days', { kind: 'withinLast', field: { kind: 'computed', event: 'order.placed', stat: 'lastSeen' }, duration: '2d' }, true],
    ['signed up within the last 7 days', { kind: 'withinLast', field: attr('signedUpAt'), duration: '7d' }, true],
    ['signed up within the last 4 days', { kind: 'withinLast', field: attr('signedUpAt'), duration: '4d' }, false],
    ['a non-date is never within a window', { kind: 'withinLast', field: attr('tier'), duration: '7d' }, false],
    ['segment membership', { kind: 'segment', id: 'vip' }, false],
    ['not', { kind: 'not', rule: { kind: 'segment', id: 'vip' } }, true],
    ['any', { kind: 'any', rules: [{ kind: 'segment', id: 'vip' }, { kind: 'exists', field: attr('tier') }] }, true],
    ['all', { kind: 'all', rules: [{ kind: 'segment', id: 'vip' }, { kind: 'exists', field: attr('tier') }] }, false],
  ])('%s', (_name, rule, expected) => {
    expect(evaluate(rule)).toBe(expected);
  });

  it('tests membership of the segments passed in', () => {
    expect(evaluate({ kind: 'segment', id: 'vip' }, profile, NOW, ['vip'])).toBe(true);
  });
});

describe('relative date windows', () => {
  const at = (signedUpAt: unknown) => ({ attributes: { signedUpAt } });
  const last7: Rule = { kind: 'withinLast', field: attr('signedUpAt'), duration: '7d' };
  const next1: Rule = { kind: 'withinNext', field: attr('signedUpAt'), duration: '1d' };
  it.each<[string, unknown, Rule, boolean]>([
    ['exactly 7 days ago is inside', new Date(NOW - 7 * 86_400_000).toISOString(), last7, true],
    ['7 days and 1 ms ago is outside', new Date(NOW - 7 * 86_400_000 - 1).toISOString(), last7, false],
    ['now is inside', NOW, last7, true],
    ['1 ms in the future is outside the last 7 days', NOW + 1, last7, false],
    ['an offset is applied', '2026-03-08T13:30:00+01:00', last7, true],
    ['an impossible date is not a date', '2026-02-30', last7, false],
    ['a local time without zone is not a date', '2026-03-14T10:00:00', last7, false],
    ['exactly 1 day ahead is inside the next day', NOW + 86_400_000, next1, true],
    ['1 day and 1 ms ahead is outside', NOW + 86_400_001, next1, false],
  ])('%s', (_name, value, rule, expected) => {
    expect(evaluate(rule, at(value))).toBe(expected);
  });
});

describe('anniversaries', () => {
  const birthday = (days: number, direction: 'next' | 'last' = 'next'): Rule => ({ kind: 'anniversary', field: attr('birthday'), direction, days });
  it.each<[string, string, string, Rule, boolean]>([
    ['today counts', '1990-03-15', '2026-03-15T23:59:59Z', birthday(0), true],
    ['in 3 days', '1990-03-18', '2026-03-15T00:00:00Z', birthday(3), true],
    ['in 4 days is outside 3', '1990-03-19', '2026-03-15T00:00:00Z', birthday(3), false],
    ['across the year end', '1985-01-02', '2026-12-30T10:00:00Z', birthday(3), true],
    ['backwards across the year end', '1985-12-30', '2027-01-02T10:00:00Z', birthday(3, 'last'), true],
    ['yesterday is not in the next days', '1990-03-14', '2026-03-15T00:00:00Z', birthday(3), false],
    ['29 February falls on 28 February in a common year', '1992-02-29', '2026-02-27T00:00:00Z', birthday(1), true],
    ['29 February is celebrated on 28 February itself', '1992-02-29', '2027-02-28T18:00:00Z', birthday(0), true],
    ['29 February is not 27 February', '1992-02-29', '2027-02-27T18:00:00Z', birthday(0), false],
    ['29 February is not 1 March in a common year', '1992-02-29', '2026-03-01T00:00:00Z', birthday(0), false],
    ['29 February falls on 29 February in a leap year', '1992-02-29', '2028-02-29T00:00:00Z', birthday(0), true],
    ['28 February is not moved in a leap year', '1992-02-29', '2028-02-28T00:00:00Z', birthday(0), false],
    ['the month and day are taken in UTC', '1990-03-17T23:00:00-05:00', '2026-03-18T00:00:00Z', birthday(0), true],
  ])('%s', (_name, value, now, rule, expected) => {
    expect(evaluate(rule, { attributes: { birthday: value } }, Date.parse(now))).toBe(expected);
  });
});

describe('event conditions', () => {
  it.each<[string, Rule, boolean]>([
    ['order.placed at least 2 times in the last 30 days where total > 50', { kind: 'event', type: 'order.placed', within: '30d', atLeast: 2, where: [{ kind: 'greater', property: 'total', value: 50 }] }, true],
    ['the window excludes older events', { kind: 'event', type: 'order.placed', within: '30d', atLeast: 3 }, false],
    ['without a window every recent event counts', { kind: 'event', type: 'order.placed', atLeast: 3 }, true],
    ['where narrows the count', { kind: 'event', type: 'order.placed', within: '30d', atLeast: 2, where: [{ kind: 'greater', property: 'total', value: 70 }] }, false],
    ['atMost bounds the count', { kind: 'event', type: 'order.placed', atMost: 2 }, false],
    ['a missing property fails its where clause', { kind: 'event', type: 'cart.updated', where: [{ kind: 'exists', property: 'total' }] }, false],
    [
      'did cart.updated but not order.placed in the last 24 hours',
      { kind: 'all', rules: [{ kind: 'event', type: 'cart.updated', within: '24h' }, { kind: 'not', rule: { kind: 'event', type: 'order.placed', within: '24h' } }] },
      true,
    ],
  ])('%s', (_name, rule, expected) => {
    expect(evaluate(rule)).toBe(expected);
  });

  it('drops a cart abandoner who ordered within the last 24 hours', () => {
    const rule: Rule = { kind: 'all', rules: [{ kind: 'event', type: 'cart.updated', within: '24h' }, { kind: 'not', rule: { kind: 'event', type: 'order.placed', within: '24h' } }] };
    const ordered = { ...profile, recentEvents: [{ id: 'e4', type: 'order.placed', time: '2026-03-15T10:00:00.000Z', source: 'shop', properties: { total: 20 }, receivedAt: '2026-03-15T10:00:00.000Z' }, ...(profile.recentEvents ?? [])] };
    expect(evaluate(rule, ordered)).toBe(false);
  });

  it('ignores events dated after now', () => {
    expect(evaluate({ kind: 'event', type: 'cart.updated' }, profile, Date.parse('2026-03-15T07:59:59Z'))).toBe(false);
  });
});

describe('rule validation', () => {
  it.each<[string, unknown, string]>([
    ['a where value of the wrong type', { kind: 'all', rules: [{ kind: 'segment', id: 'a' }, { kind: 'segment', id: 'b' }, { kind: 'event', type: 'order.placed', where: [{ kind: 'greater', property: 'total', value: true }] }] }, 'rule.rules[2].where[0].value: expected a number or a string'],
    ['an unknown kind', { kind: 'any', rules: [{ kind: 'sometimes' }] }, 'rule.rules[0].kind: '],
    ['a sum without its property', { kind: 'exists', field: { kind: 'computed', event: 'order.placed', stat: 'sum' } }, 'rule.field.property: property is required with stat "sum"'],
    ['between with min above max', { kind: 'not', rule: { kind: 'between', field: attr('age'), min: 5, max: 1 } }, 'rule.rule.max: min must not exceed max'],
    ['between mixing types', { kind: 'between', field: attr('age'), min: 5, max: 'z' }, 'rule.max: min and max must both be numbers or both be strings'],
    ['a bad duration', { kind: 'withinLast', field: attr('signedUpAt'), duration: '7 days' }, 'rule.duration: expected a duration'],
    ['atLeast above atMost', { kind: 'event', type: 'x', atLeast: 3, atMost: 1 }, 'rule.atMost: atLeast must not exceed atMost'],
    ['an empty all', { kind: 'all', rules: [] }, 'rule.rules: '],
    ['an extra key', { kind: 'segment', id: 'vip', label: 'x' }, 'rule.label: unknown field'],
  ])('rejects %s, naming the path', (_name, rule, message) => {
    const result = parseRule(rule);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.join('\n')).toContain(message);
  });

  it('accepts a segment definition and names paths from its root', () => {
    const definition = { schemaVersion: 1, id: 'cart-abandoners', name: 'Cart abandoners', rule: { kind: 'event', type: 'cart.updated', within: '24h' } };
    expect(parseSegment(definition)).toEqual({ ok: true, value: definition });
    expect(parseSegment({ ...definition, rule: { kind: 'event', type: 'cart.updated', within: 'soon' } })).toEqual({ ok: false, errors: [expect.stringMatching(/^rule\.within: expected a duration/)] });
    expect(parseSegment({ ...definition, schemaVersion: 2 })).toMatchObject({ ok: false, errors: [expect.stringMatching(/^schemaVersion: /)] });
  });
});

describe('rule depth', () => {
  const leaf = { kind: 'exists', field: { kind: 'attribute', name: 'email' } };
  const nest = (levels: number): unknown => (levels === 1 ? leaf : { kind: 'not', rule: nest(levels - 1) });

  it('accepts rules nested 10 levels deep and refuses 11, naming the rule', () => {
    expect(parseRule(nest(10)).ok).toBe(true);
    expect(parseRule(nest(11))).toEqual({ ok: false, errors: ['rule: rules nest at most 10 levels deep (all / any / not)'] });
    expect(parseSegment({ schemaVersion: 1, id: 'deep', name: 'Deep', rule: nest(11) })).toEqual({ ok: false, errors: ['rule: rules nest at most 10 levels deep (all / any / not)'] });
  });
});
