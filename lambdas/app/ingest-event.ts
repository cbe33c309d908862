import { randomUUID } from 'node:crypto';
import { parseApiEvent } from '../core/events/business-event';
import { checkEventTime } from '../core/events/event-time';
import { AWS_SOURCE_PREFIX, PLATFORM_SOURCE_PREFIX } from '../core/config/env-keys';
import { PUT_EVENTS_LIMITS, putEventsEntrySize } from '../core/events/entry-size';
import { ValidationError } from '../core/runtime/errors';
import type { Clock, EventPublisher } from '../core/runtime/ports';
import { json, parseJsonBody, PayloadTooLargeError } from '../shared/http';
import { apiHandler } from './middleware';

/** `POST /events`: validates the envelope and puts it on the bus, where it takes the same path as any business event. */
export function createIngestEventHandler(deps: { publisher: EventPublisher; clock: Clock }) {
  return apiHandler(async (event) => {
    const body = parseJsonBody(event);
    const now = deps.clock.now();
    const parsed = parseApiEvent(body, { id: randomUUID(), time: now.toISOString(), source: 'api' });
    if (!parsed.ok) throw new ValidationError('the event is not valid', parsed.errors);
    // Checked here too (the router checks again on receipt): the client hears the reason instead of a 202.
    const timeError = checkEventTime(parsed.value.time, now);
    if (timeError) throw new ValidationError('the event is not valid', [timeError]);
    // The router ignores these sources (the platform's own events, AWS service events): accepting them would lose them.
    const reserved = [PLATFORM_SOURCE_PREFIX, AWS_SOURCE_PREFIX].find((prefix) => parsed.value.source.startsWith(prefix));
    if (reserved) {
      throw new ValidationError('the event is not valid', [{ field: 'source', message: `sources starting with "${reserved}" are reserved (the platform's and AWS services' own events)` }]);
    }
    // The bus takes 256 KB per entry: refuse here what PutEvents would refuse after the 202 (as the publisher sends it).
    const { type, source, time, ...detail } = parsed.value;
    const entry = { Source: source, DetailType: type, Time: time, Detail: JSON.stringify({ ...detail, time }) };
    if (putEventsEntrySize(entry) > PUT_EVENTS_LIMITS.requestBytes) {
      const kb = PUT_EVENTS_LIMITS.requestBytes / 1024;
      throw new PayloadTooLargeError(`the event is larger than the bus takes (${kb} KB with its id, time and source)`);
    }
    await deps.publisher.publish([parsed.value]);
    return json(202, { id: parsed.value.id, type: parsed.value.type, status: 'accepted' });
  });
}
