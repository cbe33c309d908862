import { addDays, localParts, localToInstant } from '../governance/local-time';
import type { Schedule } from './schema';

/**
 * The next occurrences of a campaign's schedule, as EventBridge Scheduler will fire them: a `once` schedule's instant,
 * a cron schedule's next times in its zone. Cron fields as documented for six-field expressions
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html): minutes, hours, day-of-month,
 * month (1-12 or JAN-DEC), day-of-week (1-7 = SUN-SAT), year, with `,` `-` `*` `?` `/`. The `L`, `W` and `#` wildcards
 * are not evaluated here: the answer is then `undefined` (unknown), never a wrong date.
 */

/** Days searched ahead for a cron schedule's occurrences (a year and a bit: a yearly schedule shows its next one). */
export const OCCURRENCE_SEARCH_DAYS = 400;

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** The values a cron field allows, or undefined when it uses what this module does not evaluate. */
function field(text: string, min: number, max: number, names: readonly string[] = []): Set<number> | undefined {
  const values = new Set<number>();
  const value = (token: string): number | undefined => {
    const named = names.indexOf(token.toUpperCase());
    if (named >= 0) return named + min;
    if (!/^\d{1,4}$/.test(token)) return undefined;
    const n = Number(token);
    return n >= min && n <= max ? n : undefined;
  };
  for (const part of text.split(',')) {
    const [range, stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1 || part.split('/').length > 2) return undefined;
    let from: number | undefined;
    let to: number | undefined;
    if (range === '*' || range === '?') [from, to] = [min, max];
    else if (range.includes('-')) [from, to] = range.split('-').map(value);
    else {
      from = value(range);
      to = stepText === undefined ? from : max;
    }
    if (from === undefined || to === undefined || from > to) return undefined;
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

function cronOccurrences(cron: string, zone: string, after: number, count: number, window: { start?: number; end?: number }): string[] | undefined {
  const parts = cron.trim().split(/\s+/);
  if (parts.length !== 6) return undefined;
  const minutes = field(parts[0], 0, 59);
  const hours = field(parts[1], 0, 23);
  const daysOfMonth = field(parts[2], 1, 31);
  const months = field(parts[3], 1, 12, MONTHS);
  const daysOfWeek = field(parts[4], 1, 7, DAYS);
  const years = field(parts[5], 1970, 2199);
  if (!minutes || !hours || !daysOfMonth || !months || !daysOfWeek || !years) return undefined;
  const found: string[] = [];
  const sortedHours = [...hours].sort((a, b) => a - b);
  const sortedMinutes = [...minutes].sort((a, b) => a - b);
  const from = Math.max(after, window.start ?? -Infinity);
  let day = localParts(from, zone);
  for (let d = 0; d <= OCCURRENCE_SEARCH_DAYS && found.length < count; d++, day = { ...day, ...addDays(day, 1) }) {
    const weekday = new Date(Date.UTC(day.year, day.month - 1, day.day)).getUTCDay() + 1;
    if (!years.has(day.year) || !months.has(day.month) || !daysOfMonth.has(day.day) || !daysOfWeek.has(weekday)) continue;
    for (const hour of sortedHours) {
      for (const minute of sortedMinutes) {
        if (found.length >= count) return found;
        const at = localToInstant({ year: day.year, month: day.month, day: day.day, hour, minute }, zone);
        if (window.end !== undefined && at > window.end) return found;
        if (at > from) found.push(new Date(at).toISOString());
      }
    }
  }
  return found;
}

function localInstant(text: string, zone: string): number {
  const [date, time] = text.split('T');
  const [year, month, day] = date.split('-').map(Number);
  const [hour, minute, second] = time.split(':').map(Number);
  return localToInstant({ year, month, day, hour, minute, second: second ?? 0 }, zone);
}

/** Up to `count` instants (ISO, UTC) after `now`; `[]` for on-demand or a past `once`; undefined when not known. */
export function nextOccurrences(schedule: Schedule, now: Date, count = 3): string[] | undefined {
  switch (schedule.type) {
    case 'on-demand':
      return [];
    case 'once': {
      const at = localInstant(schedule.at, schedule.timeZone);
      return at > now.getTime() ? [new Date(at).toISOString()] : [];
    }
    case 'recurring':
      return cronOccurrences(schedule.cron, schedule.timeZone, now.getTime(), count, {
        ...(schedule.start === undefined ? {} : { start: localInstant(schedule.start, schedule.timeZone) - 1 }),
        ...(schedule.end === undefined ? {} : { end: localInstant(schedule.end, schedule.timeZone) }),
      });
  }
}
