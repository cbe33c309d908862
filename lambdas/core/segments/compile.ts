import { assertNever } from '../shared/assert-never';
import { parseDuration } from '../shared/duration';
import type { RecentEvent } from '../profiles/model';
import type { Evaluator, SegmentProfile } from './context';
import type { Field, PropertyCondition, Rule } from './rule';
import { DAY_MS, isLeapYear, monthDayKey, parseTimestamp, yearOfDays } from './time';

/**
 * Compiles a rule once into nested closures. Everything that does not depend on the profile is resolved here
 * (durations in milliseconds, `in` lists as sets, lower-cased needles, anniversary day masks cached per day of `now`),
 * so evaluating a profile walks no tree and allocates nothing except for `ignoreCase` string tests.
 * The semantics are those of `referenceEvaluate` (reference.ts); property tests hold the two equal.
 */

type Read = (profile: SegmentProfile) => unknown;
type Test = (value: unknown) => boolean;
type Predicate = DistributiveOmit<PropertyCondition, 'property'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

const MAX_TIME = 8.64e15;

/** Reads `record[key]` as an own property; the `hasOwn` check is only paid for keys `Object.prototype` has. */
function ownReader(key: string): (record: Readonly<Record<string, unknown>> | undefined) => unknown {
  if (key in Object.prototype) return (record) => (record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined);
  return (record) => (record === undefined ? undefined : record[key]);
}

function compileRead(field: Field): Read {
  switch (field.kind) {
    case 'attribute': {
      const name = field.name;
      if (name in Object.prototype) return (p) => (Object.hasOwn(p.attributes, name) ? p.attributes[name] : undefined);
      return (p) => p.attributes[name];
    }
    case 'computed': {
      const stats = ownReader(field.event);
      switch (field.stat) {
        case 'count':
          return (p) => (stats(p.computed) as { count: number } | undefined)?.count;
        case 'firstSeen':
          return (p) => (stats(p.computed) as { firstSeen: string } | undefined)?.firstSeen;
        case 'lastSeen':
          return (p) => (stats(p.computed) as { lastSeen: string } | undefined)?.lastSeen;
        case 'sum': {
          const sum = ownReader(field.property ?? '');
          return (p) => {
            const s = stats(p.computed) as { sums: Record<string, number> } | undefined;
            return s === undefined ? undefined : sum(s.sums);
          };
        }
        default:
          return assertNever(field.stat, 'stat');
      }
    }
    default:
      return assertNever(field, 'field');
  }
}

function compileTest(c: Predicate): Test {
  switch (c.kind) {
    case 'equals': {
      const expected = c.value;
      return (v) => v === expected;
    }
    case 'notEquals': {
      const expected = c.value;
      return (v) => v !== expected;
    }
    case 'greater': {
      const bound = c.value;
      return typeof bound === 'number' ? (v) => typeof v === 'number' && v > bound : (v) => typeof v === 'string' && v > bound;
    }
    case 'less': {
      const bound = c.value;
      return typeof bound === 'number' ? (v) => typeof v === 'number' && v < bound : (v) => typeof v === 'string' && v < bound;
    }
    case 'between': {
      const { min, max } = c;
      if (typeof min === 'number') {
        const upper = max as number;
        return (v) => typeof v === 'number' && v >= min && v <= upper;
      }
      const upper = max as string;
      return (v) => typeof v === 'string' && v >= min && v <= upper;
    }
    case 'in': {
      const values = new Set<unknown>(c.values);
      return (v) => values.has(v);
    }
    case 'contains': {
      const needle = c.ignoreCase ? c.value.toLowerCase() : c.value;
      return c.ignoreCase ? (v) => typeof v === 'string' && v.toLowerCase().includes(needle) : (v) => typeof v === 'string' && v.includes(needle);
    }
    case 'startsWith': {
      const prefix = c.ignoreCase ? c.value.toLowerCase() : c.value;
      return c.ignoreCase ? (v) => typeof v === 'string' && v.toLowerCase().startsWith(prefix) : (v) => typeof v === 'string' && v.startsWith(prefix);
    }
    case 'exists':
      return (v) => v !== undefined && v !== null;
    default:
      return assertNever(c, 'predicate');
  }
}

/** Epoch milliseconds of a time value, NaN when it is not one. */
function toTime(value: unknown): number {
  if (typeof value === 'string') return parseTimestamp(value);
  if (typeof value === 'number' && Number.isSafeInteger(value) && value <= MAX_TIME && value >= -MAX_TIME) return value;
  return NaN;
}

function compileAnniversary(read: Read, direction: 'next' | 'last', span: number): Evaluator {
  // mask[month * 32 + day] = 1 for the month-days in the window; rebuilt when the day of `now` changes.
  const mask = new Uint8Array(13 * 32);
  let maskDay = NaN;
  const rebuild = (today: number) => {
    mask.fill(0);
    for (let k = 0; k <= span; k++) {
      const day = direction === 'next' ? today + k : today - k;
      const key = monthDayKey(day);
      mask[key] = 1;
      // 29 February is celebrated on 28 February in common years.
      if (key === 2 * 32 + 28 && !isLeapYear(yearOfDays(day))) mask[2 * 32 + 29] = 1;
    }
    maskDay = today;
  };
  return (p, ctx) => {
    const time = toTime(read(p));
    if (time !== time) return false;
    const today = Math.floor(ctx.now / DAY_MS);
    if (today !== maskDay) rebuild(today);
    return mask[monthDayKey(Math.floor(time / DAY_MS))] === 1;
  };
}

function compileEvent(rule: Extract<Rule, { kind: 'event' }>): Evaluator {
  const type = rule.type;
  const window = rule.within === undefined ? Infinity : parseDuration(rule.within) * 1000;
  const tests = (rule.where ?? []).map((c) => {
    const read = ownReader(c.property);
    const test = compileTest(c);
    return (props: Readonly<Record<string, unknown>>) => test(read(props));
  });
  const atLeast = rule.atLeast ?? 1;
  const atMost = rule.atMost ?? Infinity;
  const stopEarly = atMost === Infinity;
  if (atLeast === 0 && stopEarly) return () => true;
  const whereCount = tests.length;
  const matches = (event: RecentEvent): boolean => {
    for (let i = 0; i < whereCount; i++) if (!tests[i](event.properties)) return false;
    return true;
  };
  return (p, ctx) => {
    const events = p.recentEvents;
    let count = 0;
    if (events !== undefined) {
      const now = ctx.now;
      const from = now - window;
      for (let i = 0; i < events.length; i++) {
        const event = events[i];
        if (event.type !== type) continue;
        const time = parseTimestamp(event.time);
        if (!(time >= from && time <= now)) continue;
        if (!matches(event)) continue;
        count++;
        if (stopEarly && count >= atLeast) return true;
        if (count > atMost) return false;
      }
    }
    return count >= atLeast && count <= atMost;
  };
}

function compileAll(parts: Evaluator[]): Evaluator {
  if (parts.length === 1) return parts[0];
  if (parts.length === 2) {
    const [a, b] = parts;
    return (p, c) => a(p, c) && b(p, c);
  }
  if (parts.length === 3) {
    const [a, b, d] = parts;
    return (p, c) => a(p, c) && b(p, c) && d(p, c);
  }
  const n = parts.length;
  return (p, c) => {
    for (let i = 0; i < n; i++) if (!parts[i](p, c)) return false;
    return true;
  };
}

function compileAny(parts: Evaluator[]): Evaluator {
  if (parts.length === 1) return parts[0];
  if (parts.length === 2) {
    const [a, b] = parts;
    return (p, c) => a(p, c) || b(p, c);
  }
  const n = parts.length;
  return (p, c) => {
    for (let i = 0; i < n; i++) if (parts[i](p, c)) return true;
    return false;
  };
}

export function compileRule(rule: Rule): Evaluator {
  switch (rule.kind) {
    case 'all':
      return compileAll(rule.rules.map(compileRule));
    case 'any':
      return compileAny(rule.rules.map(compileRule));
    case 'not': {
      const inner = compileRule(rule.rule);
      return (p, c) => !inner(p, c);
    }
    case 'segment': {
      const id = rule.id;
      return (_p, c) => c.memberships.has(id);
    }
    case 'equals':
    case 'notEquals':
    case 'greater':
    case 'less':
    case 'between':
    case 'in':
    case 'contains':
    case 'startsWith':
    case 'exists': {
      const read = compileRead(rule.field);
      const test = compileTest(rule);
      return (p) => test(read(p));
    }
    case 'withinLast': {
      const read = compileRead(rule.field);
      const span = parseDuration(rule.duration) * 1000;
      return (p, c) => {
        const time = toTime(read(p));
        return time >= c.now - span && time <= c.now;
      };
    }
    case 'withinNext': {
      const read = compileRead(rule.field);
      const span = parseDuration(rule.duration) * 1000;
      return (p, c) => {
        const time = toTime(read(p));
        return time >= c.now && time <= c.now + span;
      };
    }
    case 'anniversary':
      return compileAnniversary(compileRead(rule.field), rule.direction, rule.days);
    case 'event':
      return compileEvent(rule);
    default:
      return assertNever(rule, 'rule');
  }
}
