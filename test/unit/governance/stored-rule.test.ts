import fc from 'fast-check';
import { Rule } from '../../../lambdas/core/governance/rules';
import { storedRule } from '../../../lambdas/core/governance/stored-rule';

// Each field mostly valid (or absent when optional), else wrong in one way: one wrong field alone is common.
const field = (valid: fc.Arbitrary<unknown>, ...wrong: unknown[]) =>
  fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: fc.constantFrom(...wrong) });
const optional = (valid: fc.Arbitrary<unknown>, ...wrong: unknown[]) => field(fc.option(valid, { nil: undefined }), ...wrong);
const common = {
  $schema: optional(fc.constant('../schemas/rule.json'), 1),
  id: field(fc.constantFrom('weekly-cap', 'quiet', 'a1-b2'), 'Weekly', '', 'a'.repeat(65), 7),
  description: optional(fc.constantFrom('', 'cap'), 'x'.repeat(501), 1),
  channel: field(fc.constantFrom('email', 'sms', 'push', 'any'), 'fax', null),
  messageClass: optional(fc.constantFrom(['marketing'], ['transactional', 'marketing'], ['marketing', 'marketing']), [], ['other'], ['marketing', 'transactional', 'marketing'], 'marketing'),
  journeyTags: optional(fc.constantFrom(['promo'], ['a', 'b-c']), [], ['Promo'], Array.from({ length: 11 }, (_, i) => `t${i}`)),
};
const cap = fc.record(
  {
    kind: fc.constant('frequency-cap'),
    ...common,
    limit: field(fc.integer({ min: 1, max: 1000 }), 0, 1001, 1.5, '3'),
    period: field(fc.constantFrom({ rolling: '7d' }, { rolling: '1d12h' }, { calendar: 'day' }, { calendar: 'week' }), { rolling: '7 days' }, { calendar: 'month' }, { rolling: '1d', calendar: 'day' }, {}),
  },
  { requiredKeys: ['kind', 'id', 'channel', 'limit', 'period'] },
);
const quiet = fc.record(
  {
    kind: fc.constant('quiet-hours'),
    ...common,
    from: field(fc.constantFrom('21:00', '00:00', '23:59'), '24:00', '9:00', 9),
    to: field(fc.constantFrom('08:00', '21:00'), '08:60'),
    days: optional(fc.constantFrom(['mon'], ['sat', 'sun', 'sun']), [], ['monday'], Array.from({ length: 8 }, () => 'mon')),
    action: field(fc.constantFrom('defer', 'skip'), 'drop'),
    maxDeferral: optional(fc.constantFrom('7d', '12h'), 'a week'),
  },
  { requiredKeys: ['kind', 'id', 'channel', 'from', 'to', 'action'] },
);
const stored = fc.oneof(
  { weight: 5, arbitrary: fc.oneof(cap, quiet) },
  { weight: 1, arbitrary: fc.oneof(cap, quiet).map((r) => ({ ...r, extra: true })) },
  { weight: 1, arbitrary: fc.oneof(cap, quiet).map((r) => ({ ...r, kind: r.kind === 'quiet-hours' ? 'frequency-cap' : 'quiet-hours' })) },
  { weight: 1, arbitrary: fc.constantFrom(null, [], 'rule', { kind: 'other', id: 'x' }) },
);

describe('a stored governance rule read back by hand', () => {
  it('agrees with the Rule schema: the same verdict and the same rule, defaults applied', () => {
    fc.assert(
      fc.property(stored, (definition) => {
        const parsed = Rule.safeParse(definition);
        expect(storedRule(definition)).toEqual(parsed.success ? parsed.data : undefined);
      }),
      { numRuns: 3000 },
    );
  });

  it('fills the defaults of a rule stored before them (marketing messages, a 7-day deferral)', () => {
    expect(storedRule({ kind: 'quiet-hours', id: 'night', channel: 'any', from: '21:00', to: '08:00', action: 'defer' })).toEqual({
      kind: 'quiet-hours',
      id: 'night',
      channel: 'any',
      from: '21:00',
      to: '08:00',
      action: 'defer',
      maxDeferral: '7d',
      messageClass: ['marketing'],
    });
  });
});
