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

// The keys live apart from the counting, for the stores in every bundle (lambdas/handlers/README.md).
export { onceMarkItemKey, runEndKey, type OnceMarks } from './once-marks';

const REASON = { SUCCEEDED: 'completed', FAILED: 'failed', TIMED_OUT: 'timeout' } as const;

const END_STATUSES = ['SUCCEEDED', 'FAILED', 'TIMED_OUT'] as const;

/** The fields of a Step Functions status change this counts; checked by hand (no zod in this function's bundle). */
export interface RunStatusChange {
  'detail-type': 'Step Functions Execution Status Change';
  detail: { executionArn: string; name: string; status: (typeof END_STATUSES)[number]; startDate: number };
}

/** The run end an event announces, or the fields that are not one (each `<path>: <reason>`). */
export function parseRunStatusChange(raw: unknown): { ok: true; value: RunStatusChange } | { ok: false; issues: string[] } {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(raw)) return { ok: false, issues: ['(event): expected an object'] };
  const issues: string[] = [];
  if (raw['detail-type'] !== 'Step Functions Execution Status Change') issues.push('detail-type: expected "Step Functions Execution Status Change"');
  const detail = raw.detail;
  if (!isObject(detail)) return { ok: false, issues: [...issues, 'detail: expected an object'] };
  const text = (field: string, max: number) => {
    const v = detail[field];
    if (typeof v !== 'string' || v.length < 1 || v.length > max) issues.push(`detail.${field}: expected 1 to ${max} characters`);
  };
  text('executionArn', 2048);
  text('name', 80);
  if (!END_STATUSES.includes(detail.status as never)) issues.push(`detail.status: expected ${END_STATUSES.join(', ')}`);
  // Epoch milliseconds, as Step Functions sends it; an ISO string is read too.
  const start = detail.startDate;
  const startDate = typeof start === 'number' ? start : typeof start === 'string' ? Date.parse(start) : Number.NaN;
  if (!Number.isFinite(startDate)) issues.push('detail.startDate: not a time');
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, value: { 'detail-type': 'Step Functions Execution Status Change', detail: { ...(detail as RunStatusChange['detail']), startDate } } };
}

/** Journey runs are named `<journey id>--<28 hex digits>` (lambdas/core/runtime/enter.ts); other machines' are not. */
const JOURNEY_RUN = /^([a-z][a-z0-9]*(?:-[a-z0-9]+)*)--[0-9a-f]{28}$/;

export type RunEndResult = { status: 'counted'; journeyId: string; reason: string } | { status: 'ignored'; reason: string };

/** How long a run end's mark is kept: EventBridge redelivers within 24 hours; a week is ample. */
const MARK_SECONDS = 7 * 86_400;

/** Counts `exited` (completed, failed, timeout) once per run, by the run's entry day; EventBridge delivers at least once. */
export async function countRunEnd(deps: { counters: JourneyCounters; once: OnceMarks; clock: Clock }, raw: unknown): Promise<RunEndResult> {
  const parsed = parseRunStatusChange(raw);
  if (!parsed.ok) return { status: 'ignored', reason: `not a run end: ${parsed.issues.join('; ')}` };
  const { executionArn, name, status, startDate } = parsed.value.detail;
  const journey = JOURNEY_RUN.exec(name);
  if (!journey) return { status: 'ignored', reason: `not a journey run: ${name}` };
  if (!(await deps.once.first(runEndKey(executionArn), Math.floor(deps.clock.now().getTime() / 1000) + MARK_SECONDS))) {
    return { status: 'ignored', reason: 'already counted' };
  }
  const reason = REASON[status];
  await deps.counters.add([{ journeyId: journey[1], day: utcDay(new Date(startDate)), name: COUNTER.exited, dims: { reason } }]);
  return { status: 'counted', journeyId: journey[1], reason };
}
