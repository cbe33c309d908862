import { assertNever } from '../shared/assert-never';
import { readPath, toJsonPath } from '../shared/paths';
import { membershipKey } from '../segments/catalog';
import type { Comparison, Condition } from './condition';

/*
 * What a condition means: its evaluation in JavaScript, its ASL Choice rule and the paths it reads. Apart from the
 * schema (condition.ts, zod), so the router and the journey steps evaluate conditions without bundling zod.
 */

/** Where a journey's data holds a segment membership: `profile.segments.<id with - as _>` (the date it entered). */
export function segmentPath(segmentId: string): string {
  return `profile.segments.${membershipKey(segmentId)}`;
}

/** Every data path a condition reads (used to decide whether a profile refresh is needed). */
export function conditionPaths(condition: Condition): string[] {
  if ('all' in condition) return condition.all.flatMap(conditionPaths);
  if ('any' in condition) return condition.any.flatMap(conditionPaths);
  if ('not' in condition) return conditionPaths(condition.not);
  if ('segment' in condition) return [segmentPath(condition.segment)];
  return [condition.path];
}

function compareScalar(actual: unknown, op: Comparison['op'], expected: string | number | boolean): boolean {
  // Same semantics as the ASL rules below: the value must be present and of the expected type.
  if (typeof expected === 'number') {
    if (typeof actual !== 'number') return false;
  } else if (typeof expected === 'string') {
    if (typeof actual !== 'string') return false;
  } else if (typeof actual !== 'boolean') {
    return false;
  }
  switch (op) {
    case 'eq':
      return actual === expected;
    case 'ne':
      return actual !== expected;
    case 'gt':
      return (actual as number | string) > expected;
    case 'gte':
      return (actual as number | string) >= expected;
    case 'lt':
      return (actual as number | string) < expected;
    case 'lte':
      return (actual as number | string) <= expected;
    default:
      return assertNever(op, 'comparison operator');
  }
}

/** Evaluates a condition in JavaScript (router-side entry conditions); agrees with `toChoiceRule` on every input. */
export function evaluateCondition(condition: Condition, data: unknown): boolean {
  if ('all' in condition) return condition.all.every((c) => evaluateCondition(c, data));
  if ('any' in condition) return condition.any.some((c) => evaluateCondition(c, data));
  if ('not' in condition) return !evaluateCondition(condition.not, data);
  if ('segment' in condition) return evaluateCondition({ path: segmentPath(condition.segment), op: 'exists' }, data);
  const actual = readPath(data, condition.path);
  switch (condition.op) {
    case 'exists':
      return actual !== undefined && actual !== null;
    case 'missing':
      return actual === undefined || actual === null;
    case 'in':
      return condition.values.some((v) => actual === v);
    case 'ne':
      // "not equal" is true when the value is absent, as in ASL's Not(And(IsPresent, Equals)).
      return !compareScalar(actual, 'eq', condition.value);
    default:
      return compareScalar(actual, condition.op, condition.value);
  }
}

export type ChoiceRule = Record<string, unknown>;

const OPERATOR_SUFFIX: Record<Exclude<Comparison['op'], 'ne'>, string> = {
  eq: 'Equals',
  gt: 'GreaterThan',
  gte: 'GreaterThanEquals',
  lt: 'LessThan',
  lte: 'LessThanEquals',
};

function typedComparison(variable: string, op: Exclude<Comparison['op'], 'ne'>, value: string | number | boolean): ChoiceRule {
  const kind = typeof value === 'number' ? 'Numeric' : typeof value === 'string' ? 'String' : 'Boolean';
  const typeCheck = typeof value === 'number' ? 'IsNumeric' : typeof value === 'string' ? 'IsString' : 'IsBoolean';
  // A Choice rule on a missing path fails the execution, so presence and type are checked first.
  return {
    And: [
      { Variable: variable, IsPresent: true },
      { Variable: variable, [typeCheck]: true },
      { Variable: variable, [`${kind}${OPERATOR_SUFFIX[op]}`]: value },
    ],
  };
}

/** Compiles a condition to an ASL (JSONPath) Choice rule without `Next`. */
export function toChoiceRule(condition: Condition): ChoiceRule {
  if ('all' in condition) return { And: condition.all.map(toChoiceRule) };
  if ('any' in condition) return { Or: condition.any.map(toChoiceRule) };
  if ('not' in condition) return { Not: toChoiceRule(condition.not) };
  if ('segment' in condition) return toChoiceRule({ path: segmentPath(condition.segment), op: 'exists' });
  const variable = toJsonPath(condition.path);
  switch (condition.op) {
    case 'exists':
      return { And: [{ Variable: variable, IsPresent: true }, { Not: { Variable: variable, IsNull: true } }] };
    case 'missing':
      return { Or: [{ Not: { Variable: variable, IsPresent: true } }, { Variable: variable, IsNull: true }] };
    case 'in':
      return { Or: condition.values.map((v) => typedComparison(variable, 'eq', v)) };
    case 'ne':
      return { Not: typedComparison(variable, 'eq', condition.value) };
    default:
      return typedComparison(variable, condition.op, condition.value);
  }
}
