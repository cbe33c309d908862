import type { Weekday } from './rules';

/** Local calendar and wall-clock arithmetic in IANA time zones, through Intl (no time-zone data of our own). */

const formats = new Map<string, Intl.DateTimeFormat>();
function format(zone: string): Intl.DateTimeFormat {
  let f = formats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    // Bounded: zones come from profiles, so an attacker could name many (each is validated first).
    if (formats.size > 500) formats.clear();
    formats.set(zone, f);
  }
  return f;
}

/** A local date and time (month 1–12). */
export interface LocalDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

export function isTimeZone(zone: unknown): zone is string {
  if (typeof zone !== 'string' || zone.length === 0 || zone.length > 64) return false;
  try {
    format(zone);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock reading in `zone` at `instant` (ms). */
export function localParts(instant: number, zone: string): LocalDateTime {
  const parts: Record<string, number> = Object.create(null);
  for (const p of format(zone).formatToParts(new Date(instant))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  const { year, month, day, hour, minute, second } = parts;
  return { year, month, day, hour, minute, second };
}

/** Milliseconds to add to UTC for the wall clock in `zone` at `instant` (whole seconds). */
export function zoneOffsetMs(instant: number, zone: string): number {
  const l = localParts(instant, zone);
  return Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second) - Math.floor(instant / 1000) * 1000;
}

/**
 * The instant at which the wall clock in `zone` reads this local time. A time skipped by a daylight-saving change
 * (02:30 on a spring-forward night) is read past the gap (03:30 local); a time that occurs twice (autumn) is its first
 * occurrence: Temporal's `compatible` disambiguation.
 */
export function localToInstant(local: Omit<LocalDateTime, 'second'> & { second?: number }, zone: string): number {
  const wall = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second ?? 0);
  // Offsets in force a day either side: every zone changes its offset at most once within two days.
  const before = zoneOffsetMs(wall - 86_400_000, zone);
  const after = zoneOffsetMs(wall + 86_400_000, zone);
  const valid = [wall - before, wall - after].filter((instant) => zoneOffsetMs(instant, zone) === wall - instant);
  if (valid.length > 0) return Math.min(...valid);
  // In a gap: the earlier offset, which reads as the same time past the gap.
  return wall - before;
}

const WEEKDAYS: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** The weekday of a local calendar date. */
export function weekdayOf(date: { year: number; month: number; day: number }): Weekday {
  return WEEKDAYS[new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay()];
}

type LocalDate = Pick<LocalDateTime, 'year' | 'month' | 'day'>;

/** The calendar date `days` after this one. */
export function addDays(date: LocalDate, days: number): LocalDate {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `YYYY-MM-DD` of the local date. */
export function dayKey(date: { year: number; month: number; day: number }): string {
  return `${pad(date.year, 4)}-${pad(date.month)}-${pad(date.day)}`;
}

/** `YYYY-Www`: the ISO week (Monday first; week 1 holds the year's first Thursday) of the local date. */
export function isoWeekKey(date: { year: number; month: number; day: number }): string {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day));
  const weekday = d.getUTCDay() || 7;
  // The Thursday of this week decides the ISO year.
  d.setUTCDate(d.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${pad(d.getUTCFullYear(), 4)}-W${pad(week)}`;
}
