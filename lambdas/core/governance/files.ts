import type * as z from 'zod';
import { parseDuration } from '../shared/duration';
import { parseDefinitionFiles, type DefinitionFile } from '../shared/definition-files';
import { describeIssues, type ParseResult } from '../segments/rule';
import { Rule } from './rules';

/**
 * Reading and checking governance rules (`rules/*.json`, `PUT /rules/{id}`): the schema of rules.ts plus the checks a
 * schema cannot say (bounds of periods, an empty window, repeated days), and the checks of a set (unique ids, a count).
 */

export type RuleFile = DefinitionFile;

/** Rules of a stage, files and API ones together: every send reads all of them, so they stay few. */
export const MAX_RULES = 100;

/** What a rule may span, in seconds: a rolling period (the cap store keeps its send times) and a deferral. */
export const RULE_BOUNDS = {
  rollingMin: 60,
  rollingMax: 90 * 86_400,
  maxDeferralMin: 60,
  maxDeferralMax: 30 * 86_400,
} as const;

/** `90d`, `1m`: a bound as the rule files write durations. */
const durationText = (seconds: number) => (seconds % 86_400 === 0 ? `${seconds / 86_400}d` : `${seconds / 60}m`);

/** The checks beyond the schema, as `<field>: <message>`. */
function ruleProblems(rule: Rule): string[] {
  const problems: string[] = [];
  if (rule.kind === 'frequency-cap' && 'rolling' in rule.period) {
    const seconds = parseDuration(rule.period.rolling);
    if (seconds < RULE_BOUNDS.rollingMin || seconds > RULE_BOUNDS.rollingMax) {
      problems.push(`period.rolling: a rolling period is from ${durationText(RULE_BOUNDS.rollingMin)} to ${durationText(RULE_BOUNDS.rollingMax)}`);
    }
  }
  if (rule.kind === 'quiet-hours') {
    if (rule.from === rule.to) problems.push('to: from and to are the same time: the window would be empty (or the whole day)');
    rule.days?.forEach((day, i) => {
      if (rule.days!.indexOf(day) !== i) problems.push(`days[${i}]: "${day}" is already days[${rule.days!.indexOf(day)}]`);
    });
    const seconds = parseDuration(rule.maxDeferral);
    if (seconds < RULE_BOUNDS.maxDeferralMin || seconds > RULE_BOUNDS.maxDeferralMax) {
      problems.push(`maxDeferral: the longest deferral is from ${durationText(RULE_BOUNDS.maxDeferralMin)} to ${durationText(RULE_BOUNDS.maxDeferralMax)}`);
    }
  }
  const repeated = rule.messageClass.find((c, i) => rule.messageClass.indexOf(c) !== i);
  if (repeated !== undefined) problems.push(`messageClass: "${repeated}" is listed twice`);
  rule.journeyTags?.forEach((tag, i) => {
    if (rule.journeyTags!.indexOf(tag) !== i) problems.push(`journeyTags[${i}]: "${tag}" is already journeyTags[${rule.journeyTags!.indexOf(tag)}]`);
  });
  return problems;
}

/** One rule: the schema, then the checks beyond it; every problem is `<field>: <message>`. */
export function parseRule(input: unknown): ParseResult<Rule> {
  const result = Rule.safeParse(input);
  if (!result.success) return { ok: false, errors: describeIssues(result.error) };
  const problems = ruleProblems(result.data);
  return problems.length > 0 ? { ok: false, errors: problems } : { ok: true, value: result.data };
}

/** The zod issues of a rule that fails its schema (for callers that report structured issues), else undefined. */
export function ruleSchemaError(input: unknown): z.ZodError | undefined {
  const result = Rule.safeParse(input);
  return result.success ? undefined : result.error;
}

export class RuleSetError extends Error {
  override readonly name = 'RuleSetError';
  constructor(readonly problems: string[]) {
    super(`invalid governance rules: ${problems.join('; ')}`);
  }
}

/**
 * Parses rule files (one rule per file) and checks them as a set: ids unique, at most MAX_RULES. Every problem names
 * its file and field (`rules/sms-daily.json: limit: …`); the rules come back in file order.
 */
export function readRuleFiles(files: readonly RuleFile[]): { rules: Rule[]; problems: string[] } {
  const problems: string[] = [];
  const { definitions: rules } = parseDefinitionFiles(files, 'rule', parseRule, problems);
  if (files.length > MAX_RULES) problems.push(`${files[MAX_RULES].path}: (file): at most ${MAX_RULES} rules, found ${files.length} files`);
  return { rules, problems };
}

/** `readRuleFiles`, failing with every problem (synth, the local stack). */
export function compileRuleFiles(files: readonly RuleFile[], where: string): Rule[] {
  const { rules, problems } = readRuleFiles(files);
  if (problems.length > 0) throw new RuleSetError([`${problems.length} problem(s) in the rules under ${where}`, ...problems]);
  return rules;
}
