import { parseDuration } from '../shared/duration';
import { addDays, dayKey, isoWeekKey, isTimeZone, localParts, localToInstant, weekdayOf } from './local-time';
import type { FrequencyCapRule, QuietHoursRule, Rule } from './rules';

/** What the rules are evaluated against: one message about to be sent (README.md in this folder). */
export interface GovernedMessage {
  profileId: string;
  /** An IANA zone: the profile's `attributes.timezone`, else the stage default (see `profileTimeZone`). */
  timeZone: string;
  channel: 'email' | 'sms' | 'push';
  messageClass: 'marketing' | 'transactional';
  journey: { id: string; tags?: readonly string[]; priority: number };
  now: Date;
}

/** The profile's `attributes.timezone` when it names an IANA zone, else the stage default. */
export function profileTimeZone(attributes: Record<string, unknown>, stageDefault: string): string {
  const zone = Object.hasOwn(attributes, 'timezone') ? attributes.timezone : undefined;
  return isTimeZone(zone) ? zone : stageDefault;
}

/** Does the rule govern this message: its channel (or `any`), its message class, and one of its journey tags? */
export function ruleApplies(rule: Rule, message: Pick<GovernedMessage, 'channel' | 'messageClass' | 'journey'>): boolean {
  if (rule.channel !== 'any' && rule.channel !== message.channel) return false;
  if (!rule.messageClass.includes(message.messageClass)) return false;
  if (rule.journeyTags === undefined) return true;
  const tags = message.journey.tags ?? [];
  return rule.journeyTags.some((tag) => tags.includes(tag));
}

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

type Window = Pick<QuietHoursRule, 'from' | 'to' | 'days'>;

/**
 * The end of the quiet window that covers `at` (ms), or undefined when none does. A window starts at `from` local time
 * on each of its `days` and ends at `to` on the same day, or the next one when `to` ≤ `from` (past midnight).
 */
export function quietWindowEnd(rule: Window, at: number, zone: string): number | undefined {
  const today = localParts(at, zone);
  const from = minutesOf(rule.from);
  const to = minutesOf(rule.to);
  let end: number | undefined;
  // A window covering `at` started today or (past midnight) yesterday.
  for (const offset of [-1, 0]) {
    const startDate = addDays(today, offset);
    if (rule.days !== undefined && !rule.days.includes(weekdayOf(startDate))) continue;
    const endDate = to <= from ? addDays(startDate, 1) : startDate;
    const start = localToInstant({ ...startDate, hour: Math.floor(from / 60), minute: from % 60 }, zone);
    const stop = localToInstant({ ...endDate, hour: Math.floor(to / 60), minute: to % 60 }, zone);
    if (start <= at && at < stop) end = Math.max(end ?? stop, stop);
  }
  return end;
}

/** At most this many windows are followed one after another (a window ending where the next one starts). */
const MAX_CHAINED_WINDOWS = 9;

/** When the rule lets a message at `at` out: `at` itself when no window covers it, else when the windows end. */
export function quietUntil(rule: Window, at: number, zone: string): number {
  let t = at;
  for (let i = 0; i < MAX_CHAINED_WINDOWS; i++) {
    const end = quietWindowEnd(rule, t, zone);
    if (end === undefined) break;
    t = end;
  }
  return t;
}

export type QuietDecision =
  | { action: 'send' }
  | { action: 'skip'; rule: QuietHoursRule }
  /** `until`: when the last of the applying windows ends (the send step checks every rule again then). */
  | { action: 'defer'; rule: QuietHoursRule; until: Date };

/** The quiet-hours rules that hold this message back now: any `skip` rule wins (the first), else the longest `defer`. */
export function quietHours(rules: readonly Rule[], message: GovernedMessage): QuietDecision {
  let defer: { rule: QuietHoursRule; until: number } | undefined;
  const now = message.now.getTime();
  for (const rule of rules) {
    if (rule.kind !== 'quiet-hours' || !ruleApplies(rule, message)) continue;
    const until = quietUntil(rule, now, message.timeZone);
    if (until === now) continue;
    if (rule.action === 'skip') return { action: 'skip', rule };
    if (!defer || until > defer.until) defer = { rule, until };
  }
  return defer ? { action: 'defer', rule: defer.rule, until: new Date(defer.until) } : { action: 'send' };
}

/** A rolling period counts sends in the last `seconds`; a calendar one those with the same period key. */
export type ClaimPeriod = { rolling: number } | { calendar: 'day' | 'week'; key: string };

/** One cap a message must take a slot of (the cap store reserves every claim of a message, or none). */
export interface CapClaim {
  ruleId: string;
  limit: number;
  period: ClaimPeriod;
  /** How long a slot matters to this rule (the store drops slots every rule is done with). */
  keepSeconds: number;
  /**
   * Arbitration (README.md): runs of higher-priority journeys that may still send in this period. Each one that holds
   * no slot of it yet keeps one slot free: the message takes a slot only if `used + 1 + held back ≤ limit`.
   */
  higherRuns?: readonly string[];
}

/** A calendar slot is kept a little past its period: the profile's zone may move it by up to a day. */
const CALENDAR_KEEP_SECONDS = { day: 2 * 86400, week: 8 * 86400 } as const;

/** The period key of a calendar rule at `now` in the profile's zone: `2026-12-03` or `2026-W49`. */
export function calendarKey(calendar: 'day' | 'week', now: Date, zone: string): string {
  const local = localParts(now.getTime(), zone);
  return calendar === 'day' ? dayKey(local) : isoWeekKey(local);
}

/** The claim of one frequency cap for this message. */
export function capClaim(rule: FrequencyCapRule, message: GovernedMessage): CapClaim {
  if ('rolling' in rule.period) {
    const seconds = parseDuration(rule.period.rolling);
    return { ruleId: rule.id, limit: rule.limit, period: { rolling: seconds }, keepSeconds: seconds };
  }
  const calendar = rule.period.calendar;
  const period = { calendar, key: calendarKey(calendar, message.now, message.timeZone) };
  return { ruleId: rule.id, limit: rule.limit, period, keepSeconds: CALENDAR_KEEP_SECONDS[calendar] };
}

/** Every frequency cap that counts this message (transactional ones only where a rule names the class). */
export function capClaims(rules: readonly Rule[], message: GovernedMessage): CapClaim[] {
  return rules.flatMap((rule) =>
    rule.kind === 'frequency-cap' && ruleApplies(rule, message) ? [capClaim(rule, message)] : [],
  );
}
