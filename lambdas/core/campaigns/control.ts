import { createHash } from 'node:crypto';
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

/** The record of an API run as created, before its execution starts. */
function newApiRun(registered: RegisteredCampaign, runId: string, now: Date, dryRun: boolean): CampaignRunRecord {
  return {
    campaignId: registered.campaign.id,
    runId,
    status: 'starting',
    trigger: 'api',
    executionArn: executionArnOf(registered.stateMachineArn, runId),
    createdAt: now.toISOString(),
    ...(dryRun ? { dryRun: true } : {}),
    version: 1,
  };
}

/** The execution input of an API run: built in one place, so a repeated start sends the very same input. */
const apiRunInput = (run: CampaignRunRecord): CampaignExecutionInput => ({
  campaignId: run.campaignId,
  runId: run.runId,
  trigger: 'api',
  ...(run.dryRun ? { dryRun: true } : {}),
});

/**
 * Creates the run record (`starting`) and starts the campaign's execution named by the run id. When the execution
 * cannot be started the record says `failed` (with why) and the error propagates; a run cancelled while it was being
 * started has its execution stopped at once.
 */
export async function startCampaignRun(deps: CampaignControlDeps, campaignId: string, options: { dryRun: boolean }): Promise<CampaignRunRecord> {
  const registered = await registeredCampaign(deps, campaignId);
  const now = deps.clock.now();
  const hex = deps.randomHex?.() ?? globalThis.crypto.randomUUID().replaceAll('-', '').slice(0, 8);
  const record = newApiRun(registered, apiRunId(now, hex), now, options.dryRun);
  if (!(await deps.runs.create(record))) {
    throw new ConflictError(`campaign "${campaignId}" already has a run "${record.runId}"; try again`);
  }
  return launch(deps, registered, record);
}

/** Starts the execution of a created run; see `startCampaignRun`. */
async function launch(
  deps: CampaignControlDeps,
  registered: RegisteredCampaign,
  record: CampaignRunRecord,
): Promise<CampaignRunRecord> {
  const { campaignId, runId } = record;
  try {
    // On the live alias: the run keeps the version it started on (contract.ts, campaignStartArn).
    await deps.executions.start(campaignStartArn(registered), runId, apiRunInput(record));
  } catch (error) {
    const failed = { ...record, status: 'failed' as const, endedAt: deps.clock.now().toISOString(), error: `the execution did not start: ${(error as Error).name}`, version: 2 };
    await deps.runs.update(failed, record.version);
    throw error;
  }
  const after = await deps.runs.get(campaignId, runId);
  if (after && (after.status === 'cancelling' || after.status === 'cancelled')) await deps.executions.stop(record.executionArn!, 'cancelled through the API while starting');
  return after ?? record;
}

/** An `Idempotency-Key` of `POST /campaigns/{id}/runs`: 1 to 128 of `A-Za-z0-9-_.:~+/=` (UUIDs, ULIDs, base64). */
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9._:~+/=-]{1,128}$/;
export const IDEMPOTENCY_KEY_FIELD = 'Idempotency-Key';
/** Reads of a keyed run whose record a concurrent request is still writing (two puts), before "in progress". */
const KEYED_RUN_READS = 5;

/**
 * The run id of an API run started with an idempotency key: `key-` and 32 hex digits of SHA-256 over the campaign id
 * and the key. The same key names the same run (and execution) of a campaign for as long as the run is kept.
 */
export function keyedRunId(campaignId: string, key: string): string {
  return `key-${createHash('sha256').update(`${campaignId}\n${key}`).digest('hex').slice(0, 32)}`;
}

/**
 * `startCampaignRun` with an idempotency key: the run id is `keyedRunId(campaign, key)`, so the record's conditional
 * create lets exactly one request of a key create the run; every other one (a retry, a concurrent repeat) answers that
 * run, `replayed`. A repeat finding the run still `starting` starts its execution again under the same name with the
 * same input, which Step Functions answers without a second execution: a first request that died between the two
 * steps is completed by its retry. The key with another request (`dryRun` differs) is a ConflictError naming it.
 */
export async function startKeyedCampaignRun(
  deps: CampaignControlDeps,
  campaignId: string,
  options: { dryRun: boolean; idempotencyKey: string },
): Promise<{ run: CampaignRunRecord; replayed: boolean }> {
  const registered = await registeredCampaign(deps, campaignId);
  const record = newApiRun(registered, keyedRunId(campaignId, options.idempotencyKey), deps.clock.now(), options.dryRun);
  if (await deps.runs.create(record)) return { run: await launch(deps, registered, record), replayed: false };
  let existing: CampaignRunRecord | undefined;
  for (let read = 0; read < KEYED_RUN_READS && existing === undefined; read++) {
    existing = await deps.runs.get(campaignId, record.runId);
  }
  if (existing === undefined) {
    throw new ConflictError(`a run request with this idempotency key is still starting campaign "${campaignId}"`, [
      { field: IDEMPOTENCY_KEY_FIELD, message: 'a request with this key is in progress; retry it in a few seconds' },
    ]);
  }
  if ((existing.dryRun === true) !== options.dryRun) {
    const was = existing.dryRun ? 'a dry run' : 'a run that sends';
    const detail = `idempotency key already started ${was} of campaign "${campaignId}" (run "${existing.runId}")`;
    throw new ConflictError(detail, [
      { field: IDEMPOTENCY_KEY_FIELD, message: `already used for ${was} (dryRun ${existing.dryRun === true}); use a new key` },
    ]);
  }
  if (existing.status !== 'starting') return { run: existing, replayed: true };
  // The first request may have died before StartExecution: the same name and input start it once, or not at all
  // (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html).
  await deps.executions.start(registered.stateMachineArn, existing.runId, apiRunInput(existing));
  return { run: await existingRun(deps, campaignId, existing.runId), replayed: true };
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
