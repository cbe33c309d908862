import * as z from 'zod';
import type { JourneyCounters } from '../core/measure/counters';
import { CounterReadLimitError, CounterWindowError } from '../core/measure/counter-checks';
import { isDay, MAX_REPORT_DAYS } from '../core/measure/keys';
import { buildReport } from '../core/measure/report';
import { NotFoundError, ValidationError } from '../core/runtime/errors';
import type { Clock, JourneyRegistry } from '../core/runtime/ports';
import { json } from '../shared/http';
import { apiHandler } from './middleware';

/** The window when none is asked for: the last 30 days, today included. */
export const DEFAULT_REPORT_DAYS = 30;

const Day = (field: string) => z.string().refine(isDay, `${field} is a day YYYY-MM-DD (UTC)`);
const ReportQuery = z.object({ from: Day('from').optional(), to: Day('to').optional() });

const dayOf = (t: number) => new Date(t).toISOString().slice(0, 10);

/**
 * `GET /journeys/{id}/report?from=&to=`: the journey's funnel, outcomes, goal and experiments from its counters for
 * the days from..to (UTC, inclusive; default the last 30 days; at most MAX_REPORT_DAYS).
 */
export function createGetJourneyReportHandler(deps: { journeys: Pick<JourneyRegistry, 'get'>; counters: JourneyCounters; clock: Clock }) {
  return apiHandler(async (event) => {
    const id = event.pathParameters?.id;
    if (!id) throw new ValidationError('missing id', [{ field: 'id', message: 'the path names it: /journeys/{id}/report' }]);
    const query = ReportQuery.safeParse(event.queryStringParameters ?? {});
    if (!query.success) {
      throw new ValidationError('invalid query', query.error.issues.map((i) => ({ field: i.path.map(String).join('.') || '(query)', message: i.message })));
    }
    const today = dayOf(deps.clock.now().getTime());
    const to = query.data.to ?? (query.data.from && query.data.from > today ? query.data.from : today);
    const from = query.data.from ?? dayOf(Date.parse(`${to}T00:00:00Z`) - (DEFAULT_REPORT_DAYS - 1) * 86_400_000);
    const record = await deps.journeys.get(id);
    if (!record) throw new NotFoundError(`journey "${id}" does not exist`);
    try {
      const totals = await deps.counters.read(id, from, to);
      return json(200, { ...buildReport(record.journey, totals, from, to), version: record.version });
    } catch (error) {
      if (error instanceof CounterWindowError) throw new ValidationError(error.message, [{ field: error.field, message: `${error.message} (at most ${MAX_REPORT_DAYS} days)` }]);
      if (error instanceof CounterReadLimitError) throw new ValidationError(error.message, [{ field: 'from', message: 'a shorter window' }]);
      throw error;
    }
  });
}
