import { executionArnOf } from '../journey/registry-item';
import { ConflictError, NotFoundError } from '../runtime/errors';
import type { Clock } from '../runtime/ports';
import { dict, type Dict } from '../shared/records';
import type { CampaignExecutionInput, CampaignRegistry, CampaignRunRecord, CampaignRunStatus, CampaignRuns, RegisteredCampaign, RunCount } from './contract';
import { campaignStartArn } from './contract';

/**
 * What the marketer controls through the API (lambdas/app/campaigns.ts): starting a run, pausing, resuming and
 * cancelling it. Every change is a compare-and-set on the run record's `version`, so a change that lost a race with
 * the run itself (its `start`/`finish` steps) or another request is answered as a conflict, never as done.
 */

/** Starts and stops campaign executions (Step Functions; the local stack's runner). */
export interface CampaignExecutions {
  /** `started: false` when an execution with this name already ran. */
  start(stateMachineArn: string, name: string, input: CampaignExecutionInput): Promise<{ executionArn: string; started: boolean }>;
  /** false when it had already ended (or never started). */
  stop(executionArn: string, cause: string): Promise<boolean>;
}

export interface CampaignControlDeps {
  registry: CampaignRegistry;
  runs: CampaignRuns;
  executions: CampaignExecutions;
  clock: Clock;
  /** Random hex for run ids; default crypto's. */
  randomHex?: () => string;
}

export const RUN_ACTIONS = ['pause', 'resume', 'cancel'] as const;
export type RunAction = (typeof RUN_ACTIONS)[number];

/** The statuses each action applies to. Cancel may be repeated while `cancelling` (a stop that failed is retried). */
export const ACTION_FROM: Record<RunAction, readonly CampaignRunStatus[]> = {
  pause: ['running'],
  resume: ['paused'],
  cancel: ['starting', 'running', 'paused', 'cancelling'],
};
const ACTION_TO: Record<Exclude<RunAction, 'cancel'>, CampaignRunStatus> = { pause: 'paused', resume: 'running' };

export const ENDED_STATUSES: readonly CampaignRunStatus[] = ['succeeded', 'failed', 'cancelled'];

/** Tries of a compare-and-set before the answer is a conflict (each re-reads the record). */
const CAS_TRIES = 3;

/** Run ids of API runs: `api-<UTC compact time>-<8 hex>` (an execution name: at most 80 of [A-Za-z0-9_-]). */
export function apiRunId(now: Date, hex: string): string {
  return `api-${now.toISOString().replace(/[-:.]/g, '')}-${hex}`;
}
export const RUN_ID_PATTERN = /^[A-Za-z0-9_-]{1,80}$/;

export async function registeredCampaign(deps: Pick<CampaignControlDeps, 'registry'>, campaignId: string): Promise<RegisteredCampaign> {
  const registered = await deps.registry.get(campaignId);
  if (!registered) throw new NotFoundError(`campaign "${campaignId}" does not exist`);
  return registered;
}

export async function existingRun(deps: Pick<CampaignControlDeps, 'runs'>, campaignId: string, runId: string): Promise<CampaignRunRecord> {
  const run = await deps.runs.get(campaignId, runId);
  if (!run) throw new NotFoundError(`campaign "${campaignId}" has no run "${runId}"`);
  return run;
}

/**
 * Creates the run record (`starting`) and starts the campaign's execution named by the run id. When the execution
 * cannot be started the record says `failed` (with why) and the error propagates; a run cancelled while it was being
 * started has its execution stopped at once.
 */
export async function startCampaignRun(deps: CampaignControlDeps, campaignId: string, options: { dryRun: boolean }): Promise<CampaignRunRecord> {
  const registered = await registeredCampaign(deps, campaignId);
  const now = deps.clock.now();
  const hex = deps.randomHex?.() ?? globalThis.crypto.randomUUID().replaceAll('-', '').slice(0, 8);
  const runId = apiRunId(now, hex);
  const record: CampaignRunRecord = {
    campaignId,
    runId,
    status: 'starting',
    trigger: 'api',
    executionArn: executionArnOf(registered.stateMachineArn, runId),
    createdAt: now.toISOString(),
    ...(options.dryRun ? { dryRun: true } : {}),
    version: 1,
  };
  if (!(await deps.runs.create(record))) throw new ConflictError(`campaign "${campaignId}" already has a run "${runId}"; try again`);
  const input: CampaignExecutionInput = { campaignId, runId, trigger: 'api', ...(options.dryRun ? { dryRun: true } : {}) };
  try {
    // On the live alias: the run keeps the version it started on (contract.ts, campaignStartArn).
    await deps.executions.start(campaignStartArn(registered), runId, input);
  } catch (error) {
    const failed = { ...record, status: 'failed' as const, endedAt: deps.clock.now().toISOString(), error: `the execution did not start: ${(error as Error).name}`, version: 2 };
    await deps.runs.update(failed, record.version);
    throw error;
  }
  const after = await deps.runs.get(campaignId, runId);
  if (after && (after.status === 'cancelling' || after.status === 'cancelled')) await deps.executions.stop(record.executionArn!, 'cancelled through the API while starting');
  return after ?? record;
}

/**
 * Pause, resume or cancel: conditional on the run's status (409 naming the current one otherwise). Cancel marks the run
 * `cancelling` (batches stop sending), stops its execution, then marks it `cancelled`; if the stop fails the run stays
 * `cancelling`, the error propagates, and a repeated cancel finishes the job.
 */
export async function controlCampaignRun(deps: CampaignControlDeps, campaignId: string, runId: string, action: RunAction): Promise<CampaignRunRecord> {
  const registered = await registeredCampaign(deps, campaignId);
  const changed = await compareAndSet(deps, campaignId, runId, action, (run) =>
    action === 'cancel' ? { ...run, status: 'cancelling' } : { ...run, status: ACTION_TO[action] },
  );
  if (action !== 'cancel') return changed;
  await deps.executions.stop(changed.executionArn ?? executionArnOf(registered.stateMachineArn, runId), 'cancelled through the API');
  // The run's own finish step may have written meanwhile: cancelled is done; an end of its own is a conflict.
  const after = await existingRun(deps, campaignId, runId);
  if (after.status === 'cancelled') return after;
  return compareAndSet(deps, campaignId, runId, action, (run) => ({ ...run, status: 'cancelled', endedAt: deps.clock.now().toISOString() }), ['cancelling']);
}

async function compareAndSet(
  deps: Pick<CampaignControlDeps, 'runs'>,
  campaignId: string,
  runId: string,
  action: RunAction,
  change: (run: CampaignRunRecord) => CampaignRunRecord,
  from: readonly CampaignRunStatus[] = ACTION_FROM[action],
): Promise<CampaignRunRecord> {
  for (let attempt = 0; attempt < CAS_TRIES; attempt++) {
    const run = await existingRun(deps, campaignId, runId);
    if (!from.includes(run.status)) {
      throw new ConflictError(`run "${runId}" is ${run.status}: ${action} applies to a run that is ${from.join(' or ')}`, [
        { field: 'status', message: `the run is ${run.status}` },
      ]);
    }
    const next = { ...change(run), version: run.version + 1 };
    if (await deps.runs.update(next, run.version)) return next;
  }
  throw new ConflictError(`run "${runId}" kept changing while it was being ${action === 'cancel' ? 'cancelled' : `${action}d`}; read it again`);
}

/** A counter's totals: `total`, and per dimension (reason, branch) when it has any. */
export interface CountTotal {
  total: number;
  by?: Dict<number>;
}
/** Counts grouped as the API answers them: run-level (`step: ''`) and per step, each name with its total. */
export interface GroupedCounts {
  run: Dict<CountTotal>;
  steps: Dict<Dict<CountTotal>>;
}

export function groupCounts(counts: readonly RunCount[]): GroupedCounts {
  const run = dict<CountTotal>();
  const steps = dict<Dict<CountTotal>>();
  for (const count of counts) {
    let names = run;
    if (count.step !== '') {
      names = Object.hasOwn(steps, count.step) ? steps[count.step] : (steps[count.step] = dict<CountTotal>());
    }
    const total = Object.hasOwn(names, count.name) ? names[count.name] : (names[count.name] = { total: 0 });
    total.total += count.value;
    if (count.dim !== '') {
      total.by ??= dict<number>();
      total.by[count.dim] = (Object.hasOwn(total.by, count.dim) ? total.by[count.dim] : 0) + count.value;
    }
  }
  return { run, steps };
}
