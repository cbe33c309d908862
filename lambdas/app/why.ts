import * as z from 'zod';
import { formatIssues } from '../core/events/business-event';
import { JourneyId } from '../core/journey/schema';
import { NotFoundError, ValidationError } from '../core/runtime/errors';
import { explainProfileJourney, listProfileJourneys, WHY_LIMITS, type WhyDeps } from '../core/runtime/why';
import { json, type ApiEvent } from '../shared/http';
import { apiHandler } from './middleware';

function pathParameter(event: ApiEvent, name: 'id' | 'journeyId', route: string): string {
  const value = event.pathParameters?.[name];
  if (!value) throw new ValidationError(`missing ${name}`, [{ field: name, message: `the path names it: ${route}` }]);
  return value;
}

const limitQuery = (fallback: number, max: number) =>
  z.object({
    limit: z.coerce
      .number({ error: `limit is a whole number from 1 to ${max}` })
      .int(`limit is a whole number from 1 to ${max}`)
      .min(1, `limit is a whole number from 1 to ${max}`)
      .max(max, `limit is a whole number from 1 to ${max}`)
      .default(fallback),
  });
const ListQuery = limitQuery(WHY_LIMITS.listDefault, WHY_LIMITS.listMax);
const ExplainQuery = limitQuery(WHY_LIMITS.explainDefault, WHY_LIMITS.explainMax);

function limitOf(event: ApiEvent, schema: typeof ListQuery): number {
  const query = schema.safeParse(event.queryStringParameters ?? {});
  if (!query.success) throw new ValidationError('invalid query', formatIssues(query.error.issues));
  return query.data.limit;
}

/** `GET /profiles/{id}/journeys?limit=`: the profile's journey runs, newest first (404 for an unknown profile). */
export function createListProfileJourneysHandler(deps: WhyDeps) {
  return apiHandler(async (event) => {
    const id = pathParameter(event, 'id', '/profiles/{id}/journeys');
    const limit = limitOf(event, ListQuery);
    const found = await listProfileJourneys(deps, id, { limit });
    if (!found) throw new NotFoundError(`profile "${id}" does not exist`);
    return json(200, found);
  });
}

/**
 * `GET /profiles/{id}/journeys/{journeyId}?limit=`: each run of the journey for the profile, newest first, explained:
 * nodes with times, messages with outcomes, decisions with explanations, variants, how it ended. 404 for an unknown
 * profile, or a journey neither deployed nor run by the profile.
 */
export function createExplainProfileJourneyHandler(deps: WhyDeps) {
  return apiHandler(async (event) => {
    const id = pathParameter(event, 'id', '/profiles/{id}/journeys/{journeyId}');
    const journeyId = pathParameter(event, 'journeyId', '/profiles/{id}/journeys/{journeyId}');
    const valid = JourneyId.safeParse(journeyId);
    if (!valid.success) throw new ValidationError('invalid journey id', formatIssues(valid.error.issues, 'journeyId'));
    const limit = limitOf(event, ExplainQuery);
    const found = await explainProfileJourney(deps, id, journeyId, { limit });
    if (!found) throw new NotFoundError(`profile "${id}" does not exist`);
    if (found === 'unknown-journey') throw new NotFoundError(`journey "${journeyId}" does not exist and profile "${id}" has no run of it`);
    return json(200, found);
  });
}
