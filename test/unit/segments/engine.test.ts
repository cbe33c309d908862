import { SegmentEngine } from '../../../lambdas/core/segments/engine';
import type { Rule, SegmentDefinition } from '../../../lambdas/core/segments/rule';
import type { SegmentProfile } from '../../../lambdas/core/segments/context';

const NOW = Date.parse('2026-06-15T12:00:00.000Z');
const AT = '2026-06-15T12:00:00.000Z';
const EARLIER = '2026-01-01T00:00:00.000Z';
const DAY = 86_400_000;

function segment(id: string, rule: Rule): SegmentDefinition {
  return { schemaVersion: 1, id, name: id, rule };
}

const attr = (name: string) => ({ kind: 'attribute' as const, name });

/**
 * gold (tier) ← gold-de (gold + country) ← vip (gold-de + order.placed sum); recent-buyer (order.placed in 7d, time);
 * new-signup (signedUpAt within 30d, time) ← fresh-gold (new-signup + gold); unrelated (email).
 */
const catalog: SegmentDefinition[] = [
  segment('vip', { kind: 'all', rules: [{ kind: 'segment', id: 'gold-de' }, { kind: 'greater', field: { kind: 'computed', event: 'order.placed', stat: 'sum', property: 'total' }, value: 100 }] }),
  segment('gold-de', { kind: 'all', rules: [{ kind: 'segment', id: 'gold' }, { kind: 'equals', field: attr('country'), value: 'DE' }] }),
  segment('gold', { kind: 'equals', field: attr('tier'), value: 'gold' }),
  segment('recent-buyer', { kind: 'event', type: 'order.placed', within: '7d' }),
  segment('new-signup', { kind: 'withinLast', field: attr('signedUpAt'), duration: '30d' }),
  segment('fresh-gold', { kind: 'all', rules: [{ kind: 'segment', id: 'new-signup' }, { kind: 'segment', id: 'gold' }] }),
  segment('unrelated', { kind: 'exists', field: attr('email') }),
];

const engine = SegmentEngine.create(catalog);

function profile(attributes: Record<string, unknown>, extra: Partial<SegmentProfile> = {}): SegmentProfile {
  return { attributes, ...extra };
}

function orders(total: number, daysAgo: number): Pick<SegmentProfile, 'computed' | 'recentEvents'> {
  const time = new Date(NOW - daysAgo * DAY).toISOString();
  return {
    computed: { 'order.placed': { count: 1, firstSeen: time, lastSeen: time, sums: { total } } },
    recentEvents: [{ id: 'o-1', type: 'order.placed', source: 'shop', time, receivedAt: time, properties: { total } }],
  };
}

describe('SegmentEngine.affected', () => {
  it('includes the segments referencing an affected segment, transitively, in evaluation order', () => {
    expect(engine.affected({ attributes: ['tier'], eventTypes: [] })).toEqual(['gold', 'fresh-gold', 'gold-de', 'vip']);
  });

  it('maps an attribute read only by a referencing segment to that segment and its dependents only', () => {
    expect(engine.affected({ attributes: ['country'], eventTypes: [] })).toEqual(['gold-de', 'vip']);
  });

  it('maps an event type to segments with event conditions and computed fields of that type', () => {
    expect(engine.affected({ attributes: [], eventTypes: ['order.placed'] })).toEqual(['recent-buyer', 'vip']);
  });

  it('is empty for a change no segment reads', () => {
    expect(engine.affected({ attributes: ['nickname'], eventTypes: ['page.viewed'] })).toEqual([]);
  });

  it('unions attributes and event types without repeating a segment', () => {
    const affected = engine.affected({ attributes: ['tier', 'country', 'email'], eventTypes: ['order.placed'] });
    expect(affected).toEqual(['gold', 'fresh-gold', 'gold-de', 'recent-buyer', 'unrelated', 'vip']);
  });
});

describe('SegmentEngine.resolve', () => {
  it("'all' is every segment, referenced ones first", () => {
    const all = engine.resolve('all');
    expect([...all].sort()).toEqual(catalog.map((s) => s.id).sort());
    expect(all.indexOf('gold')).toBeLessThan(all.indexOf('gold-de'));
    expect(all.indexOf('gold-de')).toBeLessThan(all.indexOf('vip'));
    expect(all.indexOf('new-signup')).toBeLessThan(all.indexOf('fresh-gold'));
  });

  it("'time' is the time-dependent segments and the segments referencing them", () => {
    expect(engine.resolve('time')).toEqual(['new-signup', 'fresh-gold', 'recent-buyer']);
  });

  it('an id list adds dependents and ignores unknown ids', () => {
    expect(engine.resolve(['gold-de', 'nope'])).toEqual(['gold-de', 'vip']);
  });
});

describe('SegmentEngine.evaluate', () => {
  it('enters the segments the profile now qualifies for, dated at, and counts the rules run', () => {
    // Scope gold and gold-de stands for gold, fresh-gold, gold-de and vip (the segments referencing them).
    const result = engine.evaluate(profile({ tier: 'gold', country: 'FR' }), {}, ['gold', 'gold-de'], NOW, AT);
    expect(result).toEqual({ evaluated: 4, entered: ['gold'], exited: [], memberships: { gold: AT } });
  });

  it('exits the segments the profile no longer qualifies for and keeps the entry date of the others', () => {
    const current = { gold: EARLIER, 'gold-de': EARLIER, unrelated: EARLIER };
    const result = engine.evaluate(profile({ tier: 'gold', country: 'FR', email: 'a@example.com' }), current, 'all', NOW, AT);
    expect(result.entered).toEqual([]);
    expect(result.exited).toEqual(['gold-de']);
    expect(result.memberships).toEqual({ gold: EARLIER, unrelated: EARLIER });
  });

  it('lets a referencing segment see the new membership of the segment it references in the same pass', () => {
    const p = profile({ tier: 'gold', country: 'DE' }, orders(150, 1));
    const result = engine.evaluate(p, {}, ['gold'], NOW, AT);
    // gold entered, so gold-de qualifies, so vip qualifies: all in one evaluation.
    expect(result.entered).toEqual(['gold', 'gold-de', 'vip']);
    expect(result.memberships).toEqual({ gold: AT, 'gold-de': AT, vip: AT });
  });

  it('lets a referencing segment see an exit in the same pass', () => {
    const current = { gold: EARLIER, 'gold-de': EARLIER, vip: EARLIER };
    const result = engine.evaluate(profile({ tier: 'silver', country: 'DE' }, orders(150, 1)), current, ['gold'], NOW, AT);
    expect(result.exited).toEqual(['gold', 'gold-de', 'vip']);
    expect(result.memberships).toEqual({});
  });

  it('leaves segments outside the scope as they are, even when their rules would now differ', () => {
    const current = { unrelated: EARLIER };
    const result = engine.evaluate(profile({ tier: 'gold' }), current, ['gold'], NOW, AT);
    expect(result.memberships).toEqual({ unrelated: EARLIER, gold: AT });
    expect(result.exited).toEqual([]);
  });

  it("with scope 'time' re-checks relative dates and event windows, and what references them", () => {
    const signedUp = new Date(NOW - 40 * DAY).toISOString();
    const current = { 'new-signup': EARLIER, 'fresh-gold': EARLIER, 'recent-buyer': EARLIER, gold: EARLIER };
    // The signup is now 40 days old and the only order 10 days old: three memberships lapse with time alone.
    const result = engine.evaluate(profile({ tier: 'gold', signedUpAt: signedUp }, orders(20, 10)), current, 'time', NOW, AT);
    expect(result.evaluated).toBe(3);
    expect(result.exited).toEqual(['new-signup', 'fresh-gold', 'recent-buyer']);
    expect(result.memberships).toEqual({ gold: EARLIER });
  });

  it("with scope 'time' enters a segment whose window now holds", () => {
    const signedUp = new Date(NOW - 2 * DAY).toISOString();
    const result = engine.evaluate(profile({ tier: 'gold', signedUpAt: signedUp }), { gold: EARLIER }, 'time', NOW, AT);
    expect(result.entered).toEqual(['new-signup', 'fresh-gold']);
    expect(result.memberships).toEqual({ gold: EARLIER, 'new-signup': AT, 'fresh-gold': AT });
  });

  it('drops memberships of segments that are no longer defined, without reporting them as exits', () => {
    const current = { gold: EARLIER, retired: EARLIER, 'also-gone': EARLIER };
    const result = engine.evaluate(profile({ tier: 'gold' }), current, ['gold'], NOW, AT);
    expect(result.exited).toEqual([]);
    expect(result.memberships).toEqual({ gold: EARLIER });
  });

  it('treats a stale membership of a no-longer-defined segment as absent for references', () => {
    const small = SegmentEngine.create([segment('needs-old', { kind: 'not', rule: { kind: 'segment', id: 'current' } }), segment('current', { kind: 'exists', field: attr('x') })]);
    const result = small.evaluate(profile({}), { old: EARLIER }, 'all', NOW, AT);
    expect(result.memberships).toEqual({ 'needs-old': AT });
  });

  it('changes nothing for an empty scope', () => {
    const current = { gold: EARLIER };
    expect(engine.evaluate(profile({ tier: 'silver' }), current, [], NOW, AT)).toEqual({ evaluated: 0, entered: [], exited: [], memberships: { gold: EARLIER } });
  });

  it('does not change the memberships it was given', () => {
    const current = { gold: EARLIER };
    engine.evaluate(profile({ tier: 'silver' }), current, 'all', NOW, AT);
    expect(current).toEqual({ gold: EARLIER });
  });
});

describe('SegmentEngine.readsEvents', () => {
  it('is true only when a segment in the list has an event condition over the window', () => {
    expect(engine.readsEvents(['gold', 'recent-buyer'])).toBe(true);
    // vip reads order.placed through a computed field, which the profile item holds: no window needed.
    expect(engine.readsEvents(['gold', 'vip'])).toBe(false);
  });
});
