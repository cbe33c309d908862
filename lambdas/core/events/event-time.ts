import type { FieldError } from './business-event';

/** How far an event's time may run ahead of its receipt (senders' clocks drift); later times are rejected. */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;

/** The earliest event time accepted: older times are typos or defaults (epoch 0), not history worth keeping. */
export const EARLIEST_EVENT_TIME = '2000-01-01T00:00:00.000Z';

/**
 * Checks an event's time against the moment it was received (the ingestion clock): an event dated more than
 * `MAX_FUTURE_SKEW_MS` ahead would win every later-wins rule forever (consent, attributes), and one before
 * `EARLIEST_EVENT_TIME` is not a real time. The error names `field`; undefined when the time is acceptable.
 */
export function checkEventTime(time: string, receivedAt: Date, field = 'time'): FieldError | undefined {
  const at = Date.parse(time);
  if (Number.isNaN(at)) return { field, message: 'not an ISO-8601 date-time' };
  if (at > receivedAt.getTime() + MAX_FUTURE_SKEW_MS) {
    return { field, message: `${time} is more than 5 minutes after its receipt (${receivedAt.toISOString()}); send the time the event happened` };
  }
  if (at < Date.parse(EARLIEST_EVENT_TIME)) return { field, message: `${time} is before ${EARLIEST_EVENT_TIME}, the earliest event time accepted` };
  return undefined;
}
