import fc from 'fast-check';
import { validateJourney, type Violation } from '../../../lambdas/core/journey';
import { assignEntry, HOLDOUT, inJourneyHoldout, splitVariant, unitHash } from '../../../lambdas/core/measure/assignment';
import type { Journey, SplitNode } from '../../../lambdas/core/journey/schema';

const split = (over: Record<string, unknown> = {}) => ({
  id: 'offer-test',
  kind: 'split',
  variants: [
    { id: 'a', weight: 45, next: 'send-a' },
    { id: 'b', weight: 45, next: 'done' },
  ],
  holdout: { weight: 10 },
  ...over,
});
const journeyWith = (node: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  schemaVersion: 1,
  id: 'split-journey',
  name: 'Split',
  entry: { kind: 'event', event: 'signed.up' },
  start: 'offer-test',
  nodes: [node, { id: 'send-a', kind: 'send', channel: 'email', template: { subject: 'Hi', text: 'Hi' }, next: 'done' }, { id: 'done', kind: 'exit' }],
  ...extra,
});
const violations = (input: unknown): Violation[] => {
  const result = validateJourney(input);
  return result.ok ? [] : result.violations;
};

describe('split validation', () => {
  it('accepts variants and a holdout whose weights sum to 100', () => {
    expect(violations(journeyWith(split()))).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, { path: string; message: RegExp }]>([
    ['weights that do not sum to 100', { holdout: { weight: 5 } }, { path: 'nodes[0].variants', message: /sum to 100 \(got 95: a 45 \+ b 45 \+ holdout 5\)/ }],
    [
      'a duplicate variant id',
      { variants: [{ id: 'a', weight: 45, next: 'send-a' }, { id: 'a', weight: 45, next: 'done' }] },
      { path: 'nodes[0].variants[1].id', message: /duplicate variant id "a"/ },
    ],
    [
      'a variant named holdout',
      { variants: [{ id: 'holdout', weight: 45, next: 'send-a' }, { id: 'b', weight: 45, next: 'done' }] },
      { path: 'nodes[0].variants[0].id', message: /reserved/ },
    ],
    ['one arm only', { variants: [{ id: 'a', weight: 100, next: 'send-a' }], holdout: undefined }, { path: 'nodes[0].variants', message: /two variants, or one variant and a holdout/ }],
    [
      'a next that does not exist',
      { variants: [{ id: 'a', weight: 45, next: 'nowhere' }, { id: 'b', weight: 45, next: 'send-a' }] },
      { path: 'nodes[0].variants[0].next', message: /unknown node "nowhere"/ },
    ],
    ['a fractional weight', { holdout: { weight: 9.5 } }, { path: 'nodes[0].holdout.weight', message: /weights are whole percents/ }],
    ['an unknown field', { shares: [] }, { path: 'nodes[0]', message: /shares/ }],
  ])('refuses %s, naming the field', (_rule, change, expected) => {
    const node = { ...split(), ...change };
    if ('holdout' in change && change.holdout === undefined) delete (node as { holdout?: unknown }).holdout;
    expect(violations(journeyWith(node))).toContainEqual(expect.objectContaining({ path: expected.path, message: expect.stringMatching(expected.message) }));
  });

  it('refuses a cycle through a split', () => {
    const looping = journeyWith(split({ variants: [{ id: 'a', weight: 50, next: 'offer-test' }, { id: 'b', weight: 40, next: 'send-a' }] }));
    expect(violations(looping)).toContainEqual(expect.objectContaining({ message: expect.stringMatching(/cycle: offer-test -> offer-test/) }));
  });

  it('checks the goal value path and window', () => {
    expect(violations(journeyWith(split(), { goal: { event: 'order.placed', within: '7d', value: 'properties.total' } }))).toEqual([]);
    expect(violations(journeyWith(split(), { goal: { event: 'order.placed', within: '7d', value: 'profile.attributes.x' } }))).toEqual([
      expect.objectContaining({ path: 'goal.value', message: expect.stringMatching(/path into the goal event's properties/) }),
    ]);
    expect(violations(journeyWith(split(), { goal: { event: 'order.placed', within: '400d' } }))).toEqual([
      expect.objectContaining({ path: 'goal.within', message: 'a goal window is at most 365 days' }),
    ]);
  });

  it('checks that a goal condition reads the goal event only', () => {
    const on = (condition: unknown) => violations(journeyWith(split(), { goal: { event: 'order.placed', within: '7d', condition } }));
    expect(on({ path: 'event.properties.channel', op: 'eq', value: 'online' })).toEqual([]);
    expect(on({ all: [{ path: 'event.properties.total', op: 'gt', value: 0 }, { segment: 'vip' }] })).toEqual([
      expect.objectContaining({ path: 'goal.condition', message: expect.stringMatching(/reads the goal event only/) }),
    ]);
  });
});

describe('stable assignment', () => {
  const node: SplitNode = split() as SplitNode;
  const ids = Array.from({ length: 10_000 }, (_, i) => `p-${i.toString(16).padStart(24, '0')}`);

  it('gives every profile the same variant of a node on every call', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 64 }), (profileId) => {
        expect(splitVariant('j', node, profileId)).toBe(splitVariant('j', node, profileId));
        expect(inJourneyHoldout({ id: 'j', settings: { timeout: '1d', messageClass: 'marketing', holdout: { percent: 5 } } }, profileId)).toBe(
          inJourneyHoldout({ id: 'j', settings: { timeout: '1d', messageClass: 'marketing', holdout: { percent: 5 } } }, profileId),
        );
      }),
    );
  });

  it('splits 10,000 profiles by the weights (within 5 standard deviations)', () => {
    const counts = new Map<string, number>();
    for (const id of ids) counts.set(splitVariant('j', node, id), (counts.get(splitVariant('j', node, id)) ?? 0) + 1);
    for (const [variant, weight] of [['a', 45], ['b', 45], [HOLDOUT, 10]] as const) {
      const p = weight / 100;
      const sd = Math.sqrt(ids.length * p * (1 - p));
      expect(Math.abs((counts.get(variant) ?? 0) - ids.length * p)).toBeLessThan(5 * sd);
    }
  });

  it('holds out the journey holdout percent of profiles, independently of the split', () => {
    const journey = { id: 'j', settings: { timeout: '1d', messageClass: 'marketing' as const, holdout: { percent: 5 } } };
    const held = ids.filter((id) => inJourneyHoldout(journey, id));
    const sd = Math.sqrt(ids.length * 0.05 * 0.95);
    expect(Math.abs(held.length - 500)).toBeLessThan(5 * sd);
    // Among the held-out, the split still divides by its weights (the two hashes are independent).
    const inA = held.filter((id) => splitVariant('j', node, id) === 'a').length;
    expect(Math.abs(inA - held.length * 0.45)).toBeLessThan(5 * Math.sqrt(held.length * 0.45 * 0.55));
  });

  it('assigns different nodes and journeys independently', () => {
    const other = { ...node, id: 'other-test' };
    const same = ids.filter((id) => splitVariant('j', node, id) === splitVariant('j', other, id)).length;
    // Independent: P(same) = .45² + .45² + .1² = 0.415.
    expect(Math.abs(same - 4150)).toBeLessThan(5 * Math.sqrt(10_000 * 0.415 * 0.585));
    expect(unitHash('split', 'j1', 'n', 'p')).not.toBe(unitHash('split', 'j2', 'n', 'p'));
  });

  it('assigns every split of a journey at entry, keyed for the run data and by node id', () => {
    const journey = validateJourney(journeyWith(split(), { settings: { holdout: { percent: 50 } } }));
    if (!journey.ok) throw new Error('invalid');
    const assignment = assignEntry(journey.journey as Journey, 'p-1');
    expect(assignment.variants.offer_test).toBe(splitVariant('split-journey', node, 'p-1'));
    expect(assignment.byNode['offer-test']).toBe(assignment.variants.offer_test);
    expect(assignment.holdout).toBe(inJourneyHoldout(journey.journey, 'p-1'));
  });
});
