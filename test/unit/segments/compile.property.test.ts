import fc from 'fast-check';
import { compileRule } from '../../../lambdas/core/segments/compile';
import { referenceEvaluate, referenceTime } from '../../../lambdas/core/segments/reference';
import { Rule } from '../../../lambdas/core/segments/rule';
import { parseTimestamp } from '../../../lambdas/core/segments/time';
import { caseArb, leafArb, nowArb, ruleArb, timeValue } from './arbitraries';

describe('compiled evaluator', () => {
  it('agrees with the reference interpreter on random rules, profiles and times', () => {
    let matched = 0;
    let total = 0;
    fc.assert(
      fc.property(ruleArb, fc.array(caseArb, { minLength: 1, maxLength: 5 }), (rule, cases) => {
        const evaluate = compileRule(Rule.parse(rule));
        for (const { now, profile, memberships } of cases) {
          const expected = referenceEvaluate(rule, profile, { now, memberships });
          total++;
          if (expected) matched++;
          expect(evaluate(profile, { now, memberships })).toBe(expected);
        }
      }),
      { numRuns: 1500 },
    );
    // Guards the generators: a comparison where every rule is false (or true) proves nothing.
    expect(matched / total).toBeGreaterThan(0.1);
    expect(matched / total).toBeLessThan(0.9);
  });

  it('agrees with the reference interpreter on every single condition, boundaries included', () => {
    fc.assert(
      fc.property(leafArb, fc.array(caseArb, { minLength: 1, maxLength: 20 }), (rule, cases) => {
        const evaluate = compileRule(rule);
        for (const { now, profile, memberships } of cases) expect(evaluate(profile, { now, memberships })).toBe(referenceEvaluate(rule, profile, { now, memberships }));
      }),
      { numRuns: 3000 },
    );
  });

  it('reuses one compiled rule across different times without stale anniversary windows', () => {
    fc.assert(
      fc.property(ruleArb, fc.array(caseArb, { minLength: 2, maxLength: 10 }), (rule, cases) => {
        const evaluate = compileRule(rule);
        for (const { now, profile, memberships } of cases) expect(evaluate(profile, { now, memberships })).toBe(referenceEvaluate(rule, profile, { now, memberships }));
      }),
      { numRuns: 500 },
    );
  });

  it('parses timestamps exactly as the reference does', () => {
    fc.assert(
      fc.property(nowArb.chain((now) => timeValue(now)), (value) => {
        const expected = referenceTime(value);
        const actual = typeof value === 'string' ? parseTimestamp(value) : value;
        if (typeof value === 'string') expect(Number.isNaN(actual) ? undefined : actual).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });
});
