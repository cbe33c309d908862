import * as z from 'zod';
import { formatIssues } from '../core/events/business-event';
import { ValidationError } from '../core/runtime/errors';
import type { RejectedEventStore } from '../core/runtime/ports';
import { json } from '../shared/http';
import { apiHandler } from './middleware';

const Query = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) });

/** `GET /events/rejected`: invalid events from the bus with their reasons, newest first. */
export function createListRejectedEventsHandler(deps: { rejected: RejectedEventStore }) {
  return apiHandler(async (event) => {
    const query = Query.safeParse(event.queryStringParameters ?? {});
    if (!query.success) throw new ValidationError('invalid query', formatIssues(query.error.issues));
    return json(200, { events: await deps.rejected.list(query.data.limit) });
  });
}
