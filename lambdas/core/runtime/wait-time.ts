import { MAX_WAIT_SECONDS, parseDuration } from '../shared/duration';

/** Milliseconds to add to UTC to get the wall-clock time in `timeZone` at `instant`. */
function zoneOffsetMs(instant: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(instant));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return wall - Math.floor(instant / 1000) * 1000;
}

export function isTimeZone(zone: unknown): zone is string {
  if (typeof zone !== 'string' || zone.length === 0) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The instant at which the local time in `timeZone` is `hhmm` on the local calendar date of `instant`. */
export function atLocalTime(instant: number, hhmm: string, timeZone: string): number {
  const local = new Date(instant + zoneOffsetMs(instant, timeZone));
  const [hour, minute] = hhmm.split(':').map(Number);
  const wall = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate(), hour, minute);
  // Two passes so a date on which the offset changes (daylight saving) lands on the right side.
  const first = wall - zoneOffsetMs(wall, timeZone);
  return wall - zoneOffsetMs(first, timeZone);
}

export interface WaitUntilSpec {
  offset?: string;
  atLocalTime?: string;
}

/**
 * When an until-wait ends: the timestamp, shifted by the offset, moved to a local time of day in the profile's time zone,
 * never earlier than now (a past date means go on at once) and never more than 90 days ahead.
 * A missing or unreadable timestamp also means go on at once.
 */
export function resolveWaitUntil(value: unknown, spec: WaitUntilSpec, timeZone: string | undefined, now: Date): { until: string; reason?: string } {
  const base = typeof value === 'string' || typeof value === 'number' ? new Date(value).getTime() : Number.NaN;
  if (Number.isNaN(base)) return { until: now.toISOString(), reason: 'no-timestamp' };
  let target = base;
  if (spec.offset) {
    const negative = spec.offset.startsWith('-');
    target += (negative ? -1 : 1) * parseDuration(spec.offset.replace(/^-/, '')) * 1000;
  }
  if (spec.atLocalTime) target = atLocalTime(target, spec.atLocalTime, isTimeZone(timeZone) ? timeZone : 'UTC');
  const earliest = now.getTime();
  const latest = earliest + MAX_WAIT_SECONDS * 1000;
  return { until: new Date(Math.min(Math.max(target, earliest), latest)).toISOString() };
}
