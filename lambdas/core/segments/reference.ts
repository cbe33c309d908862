import { assertNever } from '../shared/assert-never';
import { parseDuration } from '../shared/duration';
import type { EvaluationContext, SegmentProfile } from './context';
import type { Field, PropertyCondition, Rule, Scalar } from './rule';

/**
 * The reference interpreter: the rule semantics written as plainly as possible (regular expressions, `Date`, a walk
 * of the tree per profile). It is the specification the compiled evaluator is property-tested against; do not optimise it.
 */

/** The range of `Date`: epoch milliseconds beyond it are not times. */
export const MAX_TIME = 8.64e15;
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2}))?$/;

export function referenceTime(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && Math.abs(value) <= MAX_TIME ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = TIMESTAMP.exec(value);
  if (!match) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '0', zone = 'Z'] = match;
  const date = new Date(0);
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  if (date.getUTCFullYear() !== Number(y) || date.getUTCMonth() !== Number(mo) - 1 || date.getUTCDate() !== Number(d)) return undefined;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  date.setUTCHours(Number(h), Number(mi), Number(s), Number(fraction.padEnd(3, '0')));
  if (zone === 'Z') return date.getTime();
  const [oh, om] = zone.slice(1).split(':').map(Number);
  if (oh > 23 || om > 59) return undefined;
  const sign = zone.startsWith('+') ? 1 : -1;
  return date.getTime() - sign * (oh * 60 + om) * 60_000;
}

function own(record: Readonly<Record<string, unknown>> | undefined, key: string): unknown {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

export function referenceRead(profile: SegmentProfile, field: Field): unknown {
  switch (field.kind) {
    case 'attribute':
      return own(profile.attributes, field.name);
    case 'computed': {
      const stats = own(profile.computed, field.event) as Record<string, unknown> | undefined;
      if (stats === undefined) return undefined;
      if (field.stat === 'sum') return own(stats.sums as Record<string, unknown>, field.property ?? '');
      return stats[field.stat];
    }
    default:
      return assertNever(field, 'field');
  }
}

function sameType(a: unknown, b: Scalar): boolean {
  return typeof a === typeof b;
}

/** A predicate: a profile comparison or an event `where` clause, without what it reads. */
export type Predicate = DistributiveOmit<PropertyCondition, 'property'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export function referencePredicate(c: Predicate, value: unknown): boolean {
  switch (c.kind) {
    case 'equals':
      return value === c.value;
    case 'notEquals':
      return value !== c.value;
    case 'greater':
      return sameType(value, c.value) && (value as number) > (c.value as number);
    case 'less':
      return sameType(value, c.value) && (value as number) < (c.value as number);
    case 'between':
      return sameType(value, c.min) && (value as number) >= (c.min as number) && (value as number) <= (c.max as number);
    case 'in':
      return c.values.includes(value as Scalar);
    case 'contains':
      if (typeof value !== 'string') return false;
      return c.ignoreCase ? value.toLowerCase().includes(c.value.toLowerCase()) : value.includes(c.value);
    case 'startsWith':
      if (typeof value !== 'string') return false;
      return c.ignoreCase ? value.toLowerCase().startsWith(c.value.toLowerCase()) : value.startsWith(c.value);
    case 'exists':
      return value !== undefined && value !== null;
    default:
      return assertNever(c, 'predicate');
  }
}

function isLeap(year: number): boolean {
  const date = new Date(0);
  date.setUTCFullYear(year, 1, 29);
  return date.getUTCMonth() === 1;
}

function anniversaryFallsOn(month: number, day: number, date: Date): boolean {
  if (date.getUTCMonth() === month && date.getUTCDate() === day) return true;
  // 29 February is celebrated on 28 February in common years.
  return month === 1 && day === 29 && date.getUTCMonth() === 1 && date.getUTCDate() === 28 && !isLeap(date.getUTCFullYear());
}

export function referenceEvaluate(rule: Rule, profile: SegmentProfile, context: EvaluationContext): boolean {
  switch (rule.kind) {
    case 'all':
      return rule.rules.every((r) => referenceEvaluate(r, profile, context));
    case 'any':
      return rule.rules.some((r) => referenceEvaluate(r, profile, context));
    case 'not':
      return !referenceEvaluate(rule.rule, profile, context);
    case 'segment':
      return context.memberships.has(rule.id);
    case 'equals':
    case 'notEquals':
    case 'greater':
    case 'less':
    case 'between':
    case 'in':
    case 'contains':
    case 'startsWith':
    case 'exists':
      return referencePredicate(rule, referenceRead(profile, rule.field));
    case 'withinLast': {
      const time = referenceTime(referenceRead(profile, rule.field));
      return time !== undefined && time >= context.now - parseDuration(rule.duration) * 1000 && time <= context.now;
    }
    case 'withinNext': {
      const time = referenceTime(referenceRead(profile, rule.field));
      return time !== undefined && time >= context.now && time <= context.now + parseDuration(rule.duration) * 1000;
    }
    case 'anniversary': {
      const time = referenceTime(referenceRead(profile, rule.field));
      if (time === undefined) return false;
      const anniversary = new Date(time);
      for (let k = 0; k <= rule.days; k++) {
        const day = new Date(context.now);
        day.setUTCDate(day.getUTCDate() + (rule.direction === 'next' ? k : -k));
        if (anniversaryFallsOn(anniversary.getUTCMonth(), anniversary.getUTCDate(), day)) return true;
      }
      return false;
    }
    case 'event': {
      const from = rule.within === undefined ? -Infinity : context.now - parseDuration(rule.within) * 1000;
      const matching = (profile.recentEvents ?? []).filter((event) => {
        if (event.type !== rule.type) return false;
        const time = referenceTime(event.time);
        if (time === undefined || time < from || time > context.now) return false;
        return (rule.where ?? []).every((condition) => referencePredicate(condition, own(event.properties, condition.property)));
      });
      return matching.length >= (rule.atLeast ?? 1) && (rule.atMost === undefined || matching.length <= rule.atMost);
    }
    default:
      return assertNever(rule, 'rule');
  }
}
