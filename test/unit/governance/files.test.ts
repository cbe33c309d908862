import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as fc from 'fast-check';
import { compileRuleFiles, MAX_RULES, parseRule, readRuleFiles, RuleSetError } from '../../../lambdas/core/governance/files';
import { loadRules, RULES_DIR, RuleSetError as SynthRuleSetError } from '../../../lib/rules';

const cap = (over: Record<string, unknown> = {}) => ({ id: 'email-weekly', kind: 'frequency-cap', channel: 'email', limit: 3, period: { rolling: '7d' }, ...over });
const quiet = (over: Record<string, unknown> = {}) => ({ id: 'night', kind: 'quiet-hours', channel: 'sms', from: '21:00', to: '08:00', action: 'defer', ...over });
const file = (path: string, value: unknown) => ({ path, text: JSON.stringify(value) });
const errors = (input: unknown) => {
  const parsed = parseRule(input);
  return parsed.ok ? [] : parsed.errors;
};

describe('parseRule', () => {
  it('fills in the defaults: marketing messages only, and a 7-day longest deferral', () => {
    expect(parseRule(cap())).toEqual({ ok: true, value: { ...cap(), messageClass: ['marketing'] } });
    expect(parseRule(quiet())).toEqual({ ok: true, value: { ...quiet(), messageClass: ['marketing'], maxDeferral: '7d' } });
  });

  it.each([
    ['an unknown kind', cap({ kind: 'rate-limit' }), 'kind: '],
    ['an unknown channel', cap({ channel: 'fax' }), 'channel: '],
    ['a limit of 0', cap({ limit: 0 }), 'limit: '],
    ['a fractional limit', cap({ limit: 1.5 }), 'limit: '],
    ['a period that is neither rolling nor calendar', cap({ period: { every: '7d' } }), 'period'],
    ['a calendar month', cap({ period: { calendar: 'month' } }), 'period'],
    ['a rolling period under a minute', cap({ period: { rolling: '30s' } }), 'period.rolling: a rolling period is from 1m to 90d'],
    ['a rolling period over 90 days', cap({ period: { rolling: '13w' } }), 'period.rolling: a rolling period is from 1m to 90d'],
    ['an unknown field', cap({ perProfile: true }), 'perProfile: unknown field'],
    ['an id that is not kebab-case', cap({ id: 'Email_Weekly' }), 'id: ids are kebab-case'],
    ['a time past 23:59', quiet({ from: '24:00' }), 'from: times are HH:MM'],
    ['a window of no length', quiet({ to: '21:00' }), 'to: from and to are the same time'],
    ['a day named twice', quiet({ days: ['mon', 'tue', 'mon'] }), 'days[2]: "mon" is already days[0]'],
    ['an unknown day', quiet({ days: ['monday'] }), 'days[0]: '],
    ['an unknown action', quiet({ action: 'drop' }), 'action: '],
    ['a deferral over 30 days', quiet({ maxDeferral: '31d' }), 'maxDeferral: the longest deferral is from 1m to 30d'],
    ['a message class named twice', cap({ messageClass: ['marketing', 'marketing'] }), 'messageClass: "marketing" is listed twice'],
    ['a journey tag named twice', cap({ journeyTags: ['promo', 'promo'] }), 'journeyTags[1]: "promo" is already journeyTags[0]'],
    ['an empty tag list', cap({ journeyTags: [] }), 'journeyTags: '],
  ])('refuses %s, naming the field', (_, input, expected) => {
    expect(errors(input).join('\n')).toContain(expected);
  });

  it('accepts a window past midnight, one within a day, and one on some weekdays', () => {
    for (const input of [quiet(), quiet({ from: '12:00', to: '14:00' }), quiet({ days: ['sat', 'sun'], action: 'skip' })]) expect(errors(input)).toEqual([]);
  });

  it('answers problems naming a field, never throws, whatever JSON it is given', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.record({ id: fc.string(), kind: fc.constantFrom('frequency-cap', 'quiet-hours', '__proto__'), channel: fc.string(), limit: fc.integer(), period: fc.jsonValue(), from: fc.string(), to: fc.string(), action: fc.string(), maxDeferral: fc.string() }, { requiredKeys: [] })), (input) => {
        const parsed = parseRule(input);
        if (!parsed.ok) for (const e of parsed.errors) expect(e).toMatch(/^[^:]+: ./);
      }),
    );
  });
});

describe('readRuleFiles', () => {
  it('reads a set of files into rules, in file order', () => {
    const { rules, problems } = readRuleFiles([file('rules/a.json', cap({ id: 'a' })), file('rules/b.json', quiet({ id: 'b' }))]);
    expect(problems).toEqual([]);
    expect(rules.map((r) => r.id)).toEqual(['a', 'b']);
  });

  it('names the file and field of every problem, across the set: bad JSON, a schema error, a duplicate id', () => {
    const { problems } = readRuleFiles([
      { path: 'rules/broken.json', text: '{ "id": ' },
      file('rules/cap.json', cap({ limit: -1 })),
      file('rules/first.json', quiet({ id: 'same' })),
      file('rules/second.json', cap({ id: 'same' })),
    ]);
    expect(problems).toEqual([
      expect.stringMatching(/^rules\/broken\.json: not valid JSON/),
      expect.stringMatching(/^rules\/cap\.json: limit: /),
      'rules/second.json: id: rule id "same" is also used by rules/first.json',
    ]);
  });

  it(`refuses more than ${MAX_RULES} rules`, () => {
    const files = Array.from({ length: MAX_RULES + 1 }, (_, i) => file(`rules/r${i}.json`, cap({ id: `r${i}` })));
    expect(readRuleFiles(files).problems).toEqual([`rules/r${MAX_RULES}.json: (file): at most ${MAX_RULES} rules, found ${MAX_RULES + 1} files`]);
    expect(readRuleFiles(files.slice(0, MAX_RULES)).problems).toEqual([]);
  });

  it('fails compileRuleFiles with every problem listed', () => {
    expect(() => compileRuleFiles([file('x.json', cap({ limit: 0 })), file('y.json', quiet({ to: '21:00' }))], 'rules')).toThrow(RuleSetError);
    try {
      compileRuleFiles([file('x.json', cap({ limit: 0 })), file('y.json', quiet({ to: '21:00' }))], 'rules');
    } catch (error) {
      expect((error as RuleSetError).problems).toEqual(['2 problem(s) in the rules under rules', expect.stringMatching(/^x\.json: limit: /), expect.stringMatching(/^y\.json: to: /)]);
    }
  });
});

describe('the shipped rules (rules/*.json)', () => {
  it('load at synth: one rule per file, every one valid', () => {
    const names = readdirSync(RULES_DIR).filter((n) => n.endsWith('.json'));
    const rules = loadRules();
    expect(rules.map((r) => r.id).sort()).toEqual(names.map((n) => JSON.parse(readFileSync(join(RULES_DIR, n), 'utf8')).id).sort());
    expect(new Set(rules.map((r) => r.kind))).toEqual(new Set(['frequency-cap', 'quiet-hours']));
  });

  it('include the documented examples: 3 emails per 7 days, 1 SMS per day, 5 a week in total, quiet nights for SMS and push', () => {
    const byId = new Map(loadRules().map((r) => [r.id, r]));
    expect(byId.get('marketing-email-weekly')).toMatchObject({ channel: 'email', limit: 3, period: { rolling: '7d' } });
    expect(byId.get('sms-daily')).toMatchObject({ channel: 'sms', limit: 1, period: { calendar: 'day' } });
    expect(byId.get('all-channels-weekly')).toMatchObject({ channel: 'any', limit: 5, period: { calendar: 'week' } });
    for (const channel of ['sms', 'push']) expect(byId.get(`quiet-hours-${channel}`)).toMatchObject({ channel, from: '21:00', to: '08:00', action: 'defer' });
  });
});

describe('loadRules (synth)', () => {
  it('fails naming each file and field when a rule file does not validate, and reads a missing folder as no rules', () => {
    const dir = mkdtempSync(join(tmpdir(), 'waymark-rules-'));
    try {
      writeFileSync(join(dir, 'a.json'), JSON.stringify(cap({ id: 'dup' })));
      writeFileSync(join(dir, 'b.json'), JSON.stringify(quiet({ id: 'dup' })));
      writeFileSync(join(dir, 'c.json'), JSON.stringify(quiet({ id: 'c', from: '25:00' })));
      writeFileSync(join(dir, 'README.md'), '# not a rule');
      let message = '';
      try {
        loadRules(dir);
      } catch (error) {
        expect(error).toBeInstanceOf(SynthRuleSetError);
        message = (error as Error).message;
      }
      expect(message).toMatch(/b\.json: id: rule id "dup" is also used by .*a\.json/);
      expect(message).toMatch(/c\.json: from: times are HH:MM/);
      expect(loadRules(join(dir, 'missing'))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
