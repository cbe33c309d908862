import { createHash } from 'node:crypto';
import type { Clock } from '../runtime/ports';
import type { AudienceRow, BatchResult, CampaignStepPayload, CampaignRunStatus, CampaignRuns, RunContext, RunCount } from './contract';

/**
 * What the per-member batch actions (deliver, enter-journey) share: the run-status gate (pause and cancel stop new
 * work within seconds), bounded concurrency, counters added once per window, and pacing to the step's rate.
 */
export const BATCH_LIMITS = {
  /** Members between two looks at the run's status; the cursor of a paused batch is a multiple of it. */
  checkEvery: 25,
  /** A status read this recently is not read again (the run record is one item read by every batch). */
  statusCacheMs: 2_000,
  /**
   * Members worked on at once within one batch (each waits on the ledger and the provider), at most: a child with a
   * smaller share of the step's rate works on fewer (`batchConcurrency`).
   */
  concurrency: 8,
  /** Items one batch takes (the ItemBatcher's MaxItemsPerBatch is lower; this bounds a hand-made payload). */
  maxItems: 10_000,
} as const;

/** A deliver, split or enter-journey batch as the campaign-step function receives it (contract.ts). */
export type BatchPayload = Omit<Extract<CampaignStepPayload, { items: AudienceRow[] }>, 'action'>;

/** What a batch may do next, by the run's status: a run that is not going on (or is gone) sends nothing more. */
export type Gate = 'go' | 'paused' | 'cancelled';

export function gateOf(status: CampaignRunStatus | undefined): Gate {
  if (status === 'running' || status === 'starting') return 'go';
  if (status === 'paused') return 'paused';
  return 'cancelled';
}

/** Reads the run's status, at most once per `statusCacheMs` of the clock. */
export function runGate(deps: { runs: Pick<CampaignRuns, 'get'>; clock: Clock }, run: RunContext): () => Promise<Gate> {
  let last: { at: number; gate: Gate } | undefined;
  return async () => {
    const now = deps.clock.now().getTime();
    if (last && now - last.at < BATCH_LIMITS.statusCacheMs) return last.gate;
    const record = await deps.runs.get(run.campaignId, run.runId);
    last = { at: now, gate: gateOf(record?.status) };
    return last.gate;
  };
}

/**
 * How long the child waits after its batch so the step keeps to its rate: `MaxConcurrency` children run at once, so
 * each may send `rate / concurrency` per second. Whole seconds: a Wait state's seconds are an integer
 * (https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-wait-state.html).
 */
export function paceSeconds(sent: number, rate?: number, concurrency?: number, elapsedMs = 0) {
  if (rate === undefined || !(rate > 0) || sent <= 0) return 0;
  const seconds = (sent * Math.max(1, concurrency ?? 1)) / rate - elapsedMs / 1000;
  return seconds > 0 ? Math.ceil(seconds) : 0;
}

/**
 * Runs `work` on every item with at most `limit` at once, in order of start. After an error no item starts, the ones
 * under way finish (their outcomes recorded and counted before the function returns), then the first error rejects.
 */
export async function inPool<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>) {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !failure) {
      const index = next++;
      try {
        await work(items[index], index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  if (failure) throw failure.error;
}

/**
 * Members a child works on at once: its share of the step's rate per second (`rate / concurrency`, the children at
 * once), at least 1 and at most `limit`, so a child never has more sends under way than it may make in a second.
 */
export function batchConcurrency(limit: number, rate?: number, concurrency?: number): number {
  const bound = Math.max(1, Math.floor(limit));
  if (rate === undefined || !(rate > 0)) return bound;
  return Math.max(1, Math.min(bound, Math.ceil(rate / Math.max(1, concurrency ?? 1))));
}

/**
 * A counter increment of the step (value 1 each). `once`: no conditional write made it a fact (an erased profile, a
 * dry run, a journey not entered), so it is counted once per window through `CampaignRuns.addOnce` instead.
 */
export type StepCount = Omit<RunCount, 'value' | 'step'> & { once?: boolean };

export interface BatchRun<L = undefined> {
  deps: { runs: Pick<CampaignRuns, 'get' | 'add' | 'addOnce'>; clock: Clock; concurrency?: number };
  payload: BatchPayload;
  /**
   * Reads what a window's members need in a few batched requests (deliver: profiles, ledger entries, suppressions)
   * before any of them starts; `member` gets it.
   */
  load?: (rows: readonly AudienceRow[]) => Promise<L>;
  /** Works on one member; returns how many messages (or entries) went out, for pacing. `count` adds a fact. */
  member: (row: AudienceRow, count: (c: StepCount) => void, loaded: L | undefined) => Promise<number>;
}

/** The fact name of a window's `once` counts: the step and a hash of its members (the same when retried). */
export function windowFact(step: string, rows: readonly AudienceRow[]): string {
  const hash = createHash('sha256').update(rows.map((r) => r.profileId).join('\n')).digest('hex').slice(0, 24);
  return `batch/${step}/${hash}`;
}

/**
 * Works through the batch from `cursor` in windows of `checkEvery` members: the run's status is read before each
 * window (paused → `paused` with the cursor of the first member not done; cancelled → `cancelled`), `load` reads
 * the window's data, its members run `batchConcurrency` at once, and its facts are added to the run's counters when it is
 * done: one increment per counter (`add`), and the `once` counts in one `addOnce` named by the window's members, so a
 * retried batch (the same items, windows at the same offsets: a cursor is a multiple of `checkEvery`) adds them once.
 */
export async function runBatch<L = undefined>({ deps, payload, member, load }: BatchRun<L>): Promise<BatchResult> {
  if (payload.items.length > BATCH_LIMITS.maxItems) {
    throw new RangeError(`items: a batch holds at most ${BATCH_LIMITS.maxItems} members, got ${payload.items.length}`);
  }
  const started = deps.clock.now().getTime();
  const gate = runGate(deps, payload.run);
  const { run, step, items } = payload;
  const atOnce = batchConcurrency(deps.concurrency ?? BATCH_LIMITS.concurrency, payload.rate, payload.concurrency);
  let cursor = Number.isInteger(payload.cursor) && payload.cursor! > 0 ? Math.min(payload.cursor!, items.length) : 0;
  let sent = 0;
  const result = (status: BatchResult['status']): BatchResult => ({
    status,
    ...(status === 'paused' ? { cursor } : {}),
    paceSeconds:
      status === 'done' && !run.dryRun
        ? paceSeconds(sent, payload.rate, payload.concurrency, deps.clock.now().getTime() - started)
        : 0,
    run,
    step,
    items,
  });
  while (cursor < items.length) {
    const state = await gate();
    if (state !== 'go') return result(state);
    const window = items.slice(cursor, cursor + BATCH_LIMITS.checkEvery);
    const counts: RunCount[] = [];
    const once: RunCount[] = [];
    const count = (c: StepCount) => (c.once ? once : counts).push({ step, name: c.name, dim: c.dim, value: 1 });
    try {
      const loaded = load ? await load(window) : undefined;
      await inPool(window, atOnce, async (row) => {
        // Read after the await: `sent += await …` would add to a value read before other members finished.
        const went = await member(row, count, loaded);
        sent += went;
      });
    } finally {
      // Facts already made (their conditional writes done) are counted even when a later member fails the batch.
      if (counts.length > 0) await deps.runs.add(run.campaignId, run.runId, mergeCounts(counts));
    }
    // Only for a window done: a failed one adds none, and its retry counts them (once).
    if (once.length > 0) {
      await deps.runs.addOnce(run.campaignId, run.runId, windowFact(step, window), mergeCounts(once));
    }
    cursor += window.length;
  }
  return result('done');
}

/** One increment per counter: the run store adds `value` (one write per counter rather than per fact). */
function mergeCounts(counts: readonly RunCount[]): RunCount[] {
  const merged = new Map<string, RunCount>();
  for (const c of counts) {
    const key = `${c.step}\u0000${c.name}\u0000${c.dim}`;
    const held = merged.get(key);
    merged.set(key, held ? { ...held, value: held.value + c.value } : { ...c });
  }
  return [...merged.values()];
}
