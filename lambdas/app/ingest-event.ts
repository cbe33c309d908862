import { randomUUID } from 'node:crypto';
import { parseApiEvent } from '../core/events/business-event';
import { PLATFORM_SOURCE_PREFIX } from '../core/config/env-keys';
import { ValidationError } from '../core/runtime/errors';
import type { Clock, EventPublisher } from '../core/runtime/ports';
import { json, parseJsonBody } from '../shared/http';
import { apiHandler } from './middleware';

/** `POST /events`: validates the envelope and puts it on the bus, where it takes the same path as any business event. */
export function createIngestEventHandler(deps: { publisher: EventPublisher; clock: Clock }) {
  return apiHandler(async (event) => {
    const body = parseJsonBody(event);
    const parsed = parseApiEvent(body, { id: randomUUID(), time: deps.clock.now().toISOString(), source: 'api' });
    if (!parsed.ok) throw new ValidationError('the event is not valid', parsed.errors);
    if (parsed.value.source.startsWith(PLATFORM_SOURCE_PREFIX)) {
      throw new ValidationError('the event is not valid', [{ field: 'source', message: `sources starting with "${PLATFORM_SOURCE_PREFIX}" are reserved for the platform` }]);
    }
    await deps.publisher.publish([parsed.value]);
    return json(202, { id: parsed.value.id, type: parsed.value.type, status: 'accepted' });
  });
}
