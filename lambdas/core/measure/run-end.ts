import * as z from 'zod';
import type { EventPattern } from '../events/pattern';
import type { Clock } from '../runtime/ports';
import { COUNTER, utcDay, type JourneyCounters } from './counters';
import { runEndKey, type OnceMarks } from './once-marks';

/**
 * Runs that end by themselves are counted from Step Functions' own events: "Step Functions Execution Status Change",
 * source `aws.states`, on the account's default event bus, with detail executionArn, stateMachineArn, name, status,
 * startDate and stopDate in epoch milliseconds (https://docs.aws.amazon.com/step-functions/latest/dg/eventbridge-integration.html).
 * ABORTED runs are counted where they are stopped (erasure, exit criteria), which knows why.
 */
export const RUN_END_EVENT_PATTERN: EventPattern = {
  source: ['aws.states'],
  'detail-type': ['Step Functions Execution Status Change'],
  detail: { status: ['SUCCEEDED', 'FAILED', 'TIMED_OUT'] },
};

// The keys live apart from the event schema (zod), for the stores in every bundle (lambdas/handlers/README.md).
export { onceMarkItemKey, runEndKey, type OnceMarks } from './once-marks';

const REASON = { SUCCEEDED: 'completed', FAILED: 'failed', TIMED_OUT: 'timeout' } as const;

const Time = z.union([z.number(), z.string()]).transform((t, ctx) => {
  const ms = typeof t === 'number' ? t : Date.parse(t);
  if (!Number.isFinite(ms)) ctx.addIssue({ code: 'custom', message: 'not a time' });
  return ms;
});

export const RunStatusChange = z.looseObject({
  'detail-type': z.literal('Step Functions Execution Status Change'),
  detail: z.looseObject({
    executionArn: z.string().min(1).max(2048),
    name: z.string().min(1).max(80),
    status: z.enum(['SUCCEEDED', 'FAILED', 'TIMED_OUT']),
    startDate: Time,
  }),
});

/** Journey runs are named `<journey id>--<28 hex digits>` (lambdas/core/runtime/enter.ts); other machines' are not. */
const JOURNEY_RUN = /^([a-z][a-z0-9]*(?:-[a-z0-9]+)*)--[0-9a-f]{28}$/;

export type RunEndResult = { status: 'counted'; journeyId: string; reason: string } | { status: 'ignored'; reason: string };

/** How long a run end's mark is kept: EventBridge redelivers within 24 hours; a week is ample. */
const MARK_SECONDS = 7 * 86_400;

/** Counts `exited` (completed, failed, timeout) once per run, by the run's entry day; EventBridge delivers at least once. */
export async function countRunEnd(deps: { counters: JourneyCounters; once: OnceMarks; clock: Clock }, raw: unknown): Promise<RunEndResult> {
  const parsed = RunStatusChange.safeParse(raw);
  if (!parsed.success) return { status: 'ignored', reason: `not a run end: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
  const { executionArn, name, status, startDate } = parsed.data.detail;
  const journey = JOURNEY_RUN.exec(name);
  if (!journey) return { status: 'ignored', reason: `not a journey run: ${name}` };
  if (!(await deps.once.first(runEndKey(executionArn), Math.floor(deps.clock.now().getTime() / 1000) + MARK_SECONDS))) {
    return { status: 'ignored', reason: 'already counted' };
  }
  const reason = REASON[status];
  await deps.counters.add([{ journeyId: journey[1], day: utcDay(new Date(startDate)), name: COUNTER.exited, dims: { reason } }]);
  return { status: 'counted', journeyId: journey[1], reason };
}
