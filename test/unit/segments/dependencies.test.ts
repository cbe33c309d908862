import fc from 'fast-check';
import type { SegmentProfile } from '../../../lambdas/core/segments/context';
import { affectedSegments, buildSegmentIndex, ruleDependencies } from '../../../lambdas/core/segments/dependencies';
import { referenceEvaluate } from '../../../lambdas/core/segments/reference';
import type { Rule } from '../../../lambdas/core/segments/rule';
import { membershipsArb, nowArb, profileArb, ruleArb } from './arbitraries';

function pick<T>(record: Readonly<Record<string, T>> | undefined, keep: (key: string) => boolean): Record<string, T> {
  return Object.fromEntries(Object.entries(record ?? {}).filter(([key]) => keep(key)));
}

/** `original` where the rule depends on it, `other` everywhere else. */
function splice(rule: Rule, original: SegmentProfile, other: SegmentProfile, originalIds: Set<string>, otherIds: Set<string>) {
  const deps = ruleDependencies(rule);
  const has = (list: string[]) => (key: string) => list.includes(key);
  const not = (list: string[]) => (key: string) => !list.includes(key);
  const profile: SegmentProfile = {
    attributes: { ...pick(original.attributes, has(deps.attributes)), ...pick(other.attributes, not(deps.attributes)) },
    computed: { ...pick(original.computed, has(deps.computedEvents)), ...pick(other.computed, not(deps.computedEvents)) },
    recentEvents: [...(original.recentEvents ?? []).filter((e) => deps.eventTypes.includes(e.type)), ...(other.recentEvents ?? []).filter((e) => !deps.eventTypes.includes(e.type))],
  };
  const memberships = new Set([...originalIds].filter((id) => deps.segments.includes(id)).concat([...otherIds].filter((id) => !deps.segments.includes(id))));
  return { profile, memberships };
}

describe('rule dependencies', () => {
  it('lists attributes, computed event types, event-condition types, segments and time dependence', () => {
    const rule: Rule = {
      kind: 'all',
      rules: [
        { kind: 'equals', field: { kind: 'attribute', name: 'tier' }, value: 'gold' },
        { kind: 'greater', field: { kind: 'computed', event: 'order.placed', stat: 'sum', property: 'total' }, value: 100 },
        { kind: 'not', rule: { kind: 'event', type: 'cart.updated', within: '1d' } },
        { kind: 'any', rules: [{ kind: 'segment', id: 'vip' }, { kind: 'exists', field: { kind: 'attribute', name: 'email' } }] },
      ],
    };
    expect(ruleDependencies(rule)).toEqual({ attributes: ['email', 'tier'], computedEvents: ['order.placed'], eventTypes: ['cart.updated'], segments: ['vip'], timeDependent: true });
  });

  it('marks a rule of plain comparisons as independent of time', () => {
    expect(ruleDependencies({ kind: 'less', field: { kind: 'computed', event: 'order.placed', stat: 'lastSeen' }, value: '2026-01-01' }).timeDependent).toBe(false);
  });

  it('never changes a rule result when only fields the rule does not depend on change', () => {
    fc.assert(
      fc.property(
        ruleArb,
        nowArb.chain((now) => fc.tuple(fc.constant(now), profileArb(now), profileArb(now), membershipsArb, membershipsArb)),
        (rule, [now, original, other, originalIds, otherIds]) => {
          const before = referenceEvaluate(rule, original, { now, memberships: originalIds });
          const spliced = splice(rule, original, other, originalIds, otherIds);
          expect(referenceEvaluate(rule, spliced.profile, { now, memberships: spliced.memberships })).toBe(before);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('affected segments', () => {
  const attribute = (name: string): Rule => ({ kind: 'exists', field: { kind: 'attribute', name } });
  const index = buildSegmentIndex([
    { id: 'gold', rule: { kind: 'equals', field: { kind: 'attribute', name: 'tier' }, value: 'gold' } },
    { id: 'buyers', rule: { kind: 'event', type: 'order.placed', within: '30d' } },
    { id: 'big-spenders', rule: { kind: 'greater', field: { kind: 'computed', event: 'order.placed', stat: 'sum', property: 'total' }, value: 500 } },
    { id: 'gold-buyers', rule: { kind: 'all', rules: [{ kind: 'segment', id: 'gold' }, { kind: 'segment', id: 'buyers' }] } },
    { id: 'not-gold-buyers', rule: { kind: 'not', rule: { kind: 'segment', id: 'gold-buyers' } } },
    { id: 'has-email', rule: attribute('email') },
  ]);

  it('re-evaluates only the segments reading a changed attribute, and the segments that reference them', () => {
    expect(affectedSegments(index, { attributes: ['tier'], eventTypes: [] })).toEqual(['gold', 'gold-buyers', 'not-gold-buyers']);
  });

  it('re-evaluates event-condition and computed-attribute segments of the event type that arrived', () => {
    expect(affectedSegments(index, { attributes: [], eventTypes: ['order.placed'] })).toEqual(['big-spenders', 'buyers', 'gold-buyers', 'not-gold-buyers']);
  });

  it('re-evaluates nothing for a change no rule reads', () => {
    expect(affectedSegments(index, { attributes: ['nickname'], eventTypes: ['page.viewed'] })).toEqual([]);
  });

  it('lists the segments that change with time alone', () => {
    expect(index.timeDependent).toEqual(['buyers']);
  });
});
