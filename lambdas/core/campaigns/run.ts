import { ConflictError } from '../runtime/errors';
import type { Clock } from '../runtime/ports';
import { describeFailure } from '../segments/batch';
import type { CampaignRunRecord, CampaignRuns, CampaignStepPayload, RunContext, StartResult } from './contract';

/**
 * A run's lifecycle in its record (runtime table): `start` finds (API) or creates (schedule) the record and marks it
 * running; `finish` ends it. Status changes are compare-and-set on `version`, read again and retried on a conflict (the
 * API's pause/resume/cancel write the same record).
 */

export type StartPayload = Extract<CampaignStepPayload, { action: 'start' }>;
export type FinishPayload = Extract<CampaignStepPayload, { action: 'finish' }>;

export interface RunDeps {
  runs: Pick<CampaignRuns, 'create' | 'get' | 'update'>;
  clock: Clock;
  /** Parallel-scan segments of the audience Map; default 8. */
  scanSegments?: number;
}

/** The audience Map's parallel-scan segments when the deployment does not say (as segment snapshots). */
export const DEFAULT_CAMPAIGN_SCAN_SEGMENTS = 8;
/**
 * The most segments a run scans: all of them run at once (the audience Map's MaxConcurrencyPath) and each child's
 * last page result (a few hundred bytes) is gathered in the Map's result, under the 256 KiB payload quota.
 */
export const MAX_CAMPAIGN_SCAN_SEGMENTS = 64;
/** Compare-and-set attempts before a status change gives up (each re-reads the record). */
const MAX_UPDATE_ATTEMPTS = 10;

/** A run that cannot start: not found, cancelled or already ended, or no run id / occurrence to name it. */
export class CampaignRunError extends Error {
  override readonly name = 'CampaignRunError';
}

/**
 * The run id of a scheduled occurrence: `s-<UTC yyyymmdd>T<hhmm>Z` (EventBridge Scheduler's scheduled time, to the
 * minute), stable across deliveries of the same occurrence and sorting by time. Throws on an unreadable time.
 */
export function campaignRunId(occurrence: string): string {
  const ms = Date.parse(occurrence);
  // An ISO time with a zone (Scheduler's <aws.scheduler.scheduled-time> is `2026-12-03T09:00:00Z`).
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(occurrence) || Number.isNaN(ms)) {
    const received = JSON.stringify(occurrence.slice(0, 64));
    throw new CampaignRunError(`occurrence must be an ISO-8601 time with a zone, received ${received}`);
  }
  const iso = new Date(ms).toISOString();
  return `s-${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}Z`;
}

/** A run's prefix in the audience bucket. */
export function runPrefix(campaignId: string, runId: string): string {
  return `runs/${campaignId}/${runId}/`;
}

/** Reads the record, applies `change` (undefined: nothing to do), writes it compare-and-set; retries conflicts. */
async function changeRecord(
  deps: Pick<RunDeps, 'runs'>,
  campaignId: string,
  runId: string,
  change: (record: CampaignRunRecord) => CampaignRunRecord | undefined,
): Promise<CampaignRunRecord> {
  for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
    const record = await deps.runs.get(campaignId, runId);
    if (!record) throw new CampaignRunError(`campaign "${campaignId}" has no run "${runId}"`);
    const next = change(record);
    if (next === undefined) return record;
    const written = { ...next, version: record.version + 1 };
    if (await deps.runs.update(written, record.version)) return written;
  }
  const attempts = MAX_UPDATE_ATTEMPTS;
  throw new ConflictError(`run "${runId}" of campaign "${campaignId}" kept changing: ${attempts} writes conflicted`);
}

function runContext(campaignId: string, runId: string, startedAt: string, dryRun: boolean): RunContext {
  return { campaignId, runId, prefix: runPrefix(campaignId, runId), startedAt, dryRun };
}

/** The run's scan segments, checked before any record is written. */
function scanSegmentsOf(deps: RunDeps): number {
  const totalSegments = deps.scanSegments ?? DEFAULT_CAMPAIGN_SCAN_SEGMENTS;
  if (!Number.isInteger(totalSegments) || totalSegments < 1 || totalSegments > MAX_CAMPAIGN_SCAN_SEGMENTS) {
    const bound = `an integer from 1 to ${MAX_CAMPAIGN_SCAN_SEGMENTS}`;
    throw new RangeError(`scanSegments must be ${bound} (got ${totalSegments})`);
  }
  return totalSegments;
}

function started(deps: RunDeps, run: RunContext): StartResult {
  const totalSegments = scanSegmentsOf(deps);
  return { duplicate: false, run, parts: Array.from({ length: totalSegments }, (_, i) => i), totalSegments };
}

/**
 * The `start` action. API runs: the record the API created (`starting`) becomes `running` with this execution's ARN (a
 * paused one stays paused); a run that does not exist, was cancelled, ended, or belongs to another execution fails the
 * start. Scheduled runs: the record is created under the occurrence's run id; when it exists for another execution,
 * this is a second delivery of the occurrence and the result says `duplicate` (nobody is sent anything twice).
 */
export async function startRun(deps: RunDeps, payload: StartPayload): Promise<StartResult> {
  const { input, executionArn, startedAt } = payload;
  scanSegmentsOf(deps);
  const dryRun = input.dryRun ?? false;
  if (input.trigger === 'schedule') {
    if (input.occurrence === undefined) throw new CampaignRunError('a scheduled run needs its occurrence');
    const runId = campaignRunId(input.occurrence);
    const record: CampaignRunRecord = {
      campaignId: input.campaignId,
      runId,
      status: 'running',
      trigger: 'schedule',
      occurrence: input.occurrence,
      executionArn,
      createdAt: deps.clock.now().toISOString(),
      startedAt,
      version: 1,
    };
    if (!(await deps.runs.create(record))) {
      const existing = await deps.runs.get(input.campaignId, runId);
      // The same execution retrying its start goes on; any other execution is a second delivery of the occurrence.
      if (existing?.executionArn !== executionArn) return { duplicate: true };
    }
    return started(deps, runContext(input.campaignId, runId, startedAt, dryRun));
  }
  const runId = input.runId;
  if (runId === undefined) throw new CampaignRunError('a run started through the API needs its run id');
  await changeRecord(deps, input.campaignId, runId, (record) => {
    if (record.executionArn !== undefined && record.executionArn !== executionArn) {
      throw new CampaignRunError(`run "${runId}" belongs to another execution (${record.executionArn})`);
    }
    switch (record.status) {
      case 'starting':
        return { ...record, status: 'running', executionArn, startedAt };
      case 'running':
      case 'paused':
        return record.executionArn === executionArn ? undefined : { ...record, executionArn, startedAt };
      case 'cancelling':
      case 'cancelled':
        throw new CampaignRunError(`run "${runId}" of campaign "${input.campaignId}" was cancelled before it started`);
      case 'succeeded':
      case 'failed':
        throw new CampaignRunError(`run "${runId}" of campaign "${input.campaignId}" has already ${record.status}`);
    }
  });
  return started(deps, runContext(input.campaignId, runId, startedAt, dryRun));
}

/**
 * The `finish` action: the run succeeded or failed (with the error's summary) and ended now. A cancelled (or
 * cancelling) run stays cancelled; a run that already ended is left as it is (a retried finish).
 */
export async function finishRun(
  deps: Pick<RunDeps, 'runs' | 'clock'>,
  payload: FinishPayload,
): Promise<CampaignRunRecord> {
  const { campaignId, runId } = payload.run;
  return changeRecord(deps, campaignId, runId, (record) => {
    const ended = record.status === 'succeeded' || record.status === 'failed';
    if (ended || (record.status === 'cancelled' && record.endedAt !== undefined)) return undefined;
    const endedAt = deps.clock.now().toISOString();
    if (record.status === 'cancelled' || record.status === 'cancelling') {
      return { ...record, status: 'cancelled', endedAt };
    }
    if (payload.status === 'failed') {
      return { ...record, status: 'failed', endedAt, error: describeFailure(payload.error) };
    }
    return { ...record, status: 'succeeded', endedAt };
  });
}
