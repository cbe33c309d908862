import { cachedRuleSource, RULE_CACHE_MS } from '../../../lambdas/core/governance/store';
import { Rule } from '../../../lambdas/core/governance/rules';

const rule = (id: string) => Rule.parse({ id, kind: 'frequency-cap', channel: 'email', limit: 2, period: { calendar: 'day' } });

describe('cachedRuleSource (the send step on AWS)', () => {
  it('reads the store once per minute: a rule written meanwhile governs the sends after the minute', async () => {
    let now = Date.parse('2026-12-03T08:00:00Z');
    const clock = { now: () => new Date(now) };
    let stored = [rule('a')];
    let reads = 0;
    const rules = cachedRuleSource({ list: async () => (reads++, stored) }, clock);
    expect(await rules.list()).toEqual([rule('a')]);
    stored = [rule('a'), rule('b')];
    now += RULE_CACHE_MS - 1;
    expect(await rules.list()).toEqual([rule('a')]);
    now += 1;
    expect(await rules.list()).toEqual([rule('a'), rule('b')]);
    expect(reads).toBe(2);
  });
});
