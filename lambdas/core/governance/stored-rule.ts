import { DURATION_PATTERN } from '../shared/duration';
import type { Rule } from './rules';

/*
 * A stored governance rule read back, checked by hand: the same rules and defaults as the `Rule` schema (rules.ts,
 * zod, which the API and the rule files use), so the send step's bundle carries no zod. A property test holds the two
 * to the same verdicts and values (test/unit/governance/stored-rule.test.ts).
 */

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const KEBAB = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const TIME_OF_DAY = /^([01]\d|2[0-3]):[0-5]\d$/;
const CHANNELS = ['email', 'sms', 'push', 'any'];
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const COMMON = ['$schema', 'id', 'description', 'kind', 'channel', 'messageClass', 'journeyTags'];
const KEYS = { 'frequency-cap': [...COMMON, 'limit', 'period'], 'quiet-hours': [...COMMON, 'from', 'to', 'days', 'action', 'maxDeferral'] };

const isString = (v: unknown, max = Infinity): v is string => typeof v === 'string' && v.length <= max;
const isDuration = (v: unknown): v is string => typeof v === 'string' && DURATION_PATTERN.test(v);
const isKebab = (v: unknown): v is string => isString(v, 64) && KEBAB.test(v);
const listOf = (v: unknown, min: number, max: number, item: (x: unknown) => boolean): v is unknown[] =>
  Array.isArray(v) && v.length >= min && v.length <= max && v.every(item);
const oneOf = (values: readonly string[]) => (v: unknown) => typeof v === 'string' && values.includes(v);
const onlyKeys = (v: Json, keys: readonly string[]) => Object.keys(v).every((k) => keys.includes(k));

function isPeriod(v: unknown): boolean {
  if (!isObject(v)) return false;
  if (onlyKeys(v, ['rolling']) && isDuration(v.rolling)) return true;
  return onlyKeys(v, ['calendar']) && (v.calendar === 'day' || v.calendar === 'week');
}

/** The rule a stored definition holds, defaults applied; undefined when it is not a rule (left out of `list()`). */
export function storedRule(definition: unknown): Rule | undefined {
  if (!isObject(definition)) return undefined;
  const v = definition;
  if (v.kind !== 'frequency-cap' && v.kind !== 'quiet-hours') return undefined;
  if (!onlyKeys(v, KEYS[v.kind])) return undefined;
  if (v.$schema !== undefined && !isString(v.$schema)) return undefined;
  if (!isKebab(v.id) || (v.description !== undefined && !isString(v.description, 500)) || !oneOf(CHANNELS)(v.channel)) return undefined;
  if (v.messageClass !== undefined && !listOf(v.messageClass, 1, 2, oneOf(['marketing', 'transactional']))) return undefined;
  if (v.journeyTags !== undefined && !listOf(v.journeyTags, 1, 10, isKebab)) return undefined;
  const common: Json = { ...v, messageClass: [...((v.messageClass as string[] | undefined) ?? ['marketing'])] };
  if (v.journeyTags !== undefined) common.journeyTags = [...(v.journeyTags as string[])];
  if (v.kind === 'frequency-cap') {
    const limit = v.limit;
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 1000 || !isPeriod(v.period)) return undefined;
    return { ...common, period: { ...(v.period as Json) } } as unknown as Rule;
  }
  if (!isString(v.from) || !TIME_OF_DAY.test(v.from) || !isString(v.to) || !TIME_OF_DAY.test(v.to)) return undefined;
  if (v.days !== undefined && !listOf(v.days, 1, 7, oneOf(WEEKDAYS))) return undefined;
  if (v.action !== 'defer' && v.action !== 'skip') return undefined;
  if (v.maxDeferral !== undefined && !isDuration(v.maxDeferral)) return undefined;
  const rule: Json = { ...common, maxDeferral: v.maxDeferral ?? '7d' };
  if (v.days !== undefined) rule.days = [...(v.days as string[])];
  return rule as unknown as Rule;
}
