import * as z from 'zod';
import { NotFoundError } from '../runtime/errors';
import type { Clock, JourneyRegistry, Profile } from '../runtime/ports';
import { updateSegments, type SegmentRuntimeDeps } from '../runtime/segments';
import type { SegmentCatalog } from './cached-catalog';
import { compileRule } from './compile';
import type { Evaluator } from './context';
import { ruleDependencies } from './dependencies';
import type { AudienceJob, AudienceJobs, MembershipStore, Memberships, ProfileScanner, SegmentStore, SnapshotHeader, SnapshotStore } from './ports';

/**
 * Batch audiences: work over every profile, one parallel-scan segment of the profiles table at a time. The audience-scan
 * state machine (scan-asl.ts) maps over the scan segments and calls `scanPage` until each segment's cursor runs out,
 * then `finishJob`, or `failJob` when an iteration fails for good. Every step is idempotent, so retries are safe:
 * snapshot members are added idempotently and counted at the end; a re-check converges memberships and announces
 * transitions with ids derived from the job.
 */

/** Parallel-scan segments of an audience job (Map iterations, run at once). */
export const DEFAULT_SCAN_SEGMENTS = 8;
/** Profiles per `scanPage` call: one Lambda invocation, well inside its timeout even for re-checks. */
export const DEFAULT_PAGE_SIZE = 500;
/** Profiles evaluated concurrently within one page of a re-check (each does a few reads and conditional writes). */
const RECHECK_CONCURRENCY = 16;

export interface SnapshotScanDeps {
  profileScanner: ProfileScanner;
  snapshots: SnapshotStore;
  memberships: Pick<MembershipStore, 'get'>;
  segments: SegmentCatalog;
  /** Read first for the segment's definition (a segment created a moment ago may not be in the cached catalog yet). */
  segmentStore?: Pick<SegmentStore, 'get'>;
  clock: Clock;
  pageSize?: number;
}

/** What `scanPage` needs: the snapshot side and, for re-checks, everything `updateSegments` needs. */
export type ScanPageDeps = SnapshotScanDeps & SegmentRuntimeDeps & { journeys: Pick<JourneyRegistry, 'list'> };

export interface ScanPageInput {
  job: AudienceJob;
  /** The parallel-scan segment this iteration reads (0 .. totalSegments - 1). */
  segment: number;
  totalSegments: number;
  cursor?: string;
  /** Running totals over the pages of this scan segment so far. */
  scanned?: number;
  matched?: number;
}

export interface ScanPageResult {
  job: AudienceJob;
  segment: number;
  totalSegments: number;
  /** Absent when the scan segment is done. */
  cursor?: string;
  /** Profiles evaluated in this scan segment so far (this page included). */
  scanned: number;
  /** Snapshot: members found so far. Re-check: profiles whose memberships changed so far. */
  matched: number;
}

interface SegmentEvaluator {
  evaluate: Evaluator;
  /** The rule tests other segments' memberships, so each profile's memberships must be known. */
  readsMemberships: boolean;
}

/** The segment's current definition, compiled: from the store when given (always current), else the cached catalog. */
async function segmentEvaluator(deps: Pick<SnapshotScanDeps, 'segmentStore' | 'segments'>, segmentId: string): Promise<SegmentEvaluator> {
  const definition = deps.segmentStore
    ? (await deps.segmentStore.get(segmentId))?.definition
    : (await deps.segments.engine()).definitions().find((d) => d.id === segmentId);
  if (!definition) throw new NotFoundError(`segment "${segmentId}" does not exist`);
  return { evaluate: compileRule(definition.rule), readsMemberships: ruleDependencies(definition.rule).segments.length > 0 };
}

/** Runs `fn` over the items, at most `limit` at a time. */
async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** The ids of the profiles that are members, evaluated at `now` (memberships for `segment` conditions: the scanned ones, else read). */
async function members(deps: Pick<SnapshotScanDeps, 'memberships'>, evaluator: SegmentEvaluator, profiles: readonly Profile[], now: number): Promise<string[]> {
  const matched: string[] = [];
  await forEachLimit(profiles, RECHECK_CONCURRENCY, async (profile) => {
    let memberships: Memberships = {};
    if (evaluator.readsMemberships) memberships = profile.segments ?? (await deps.memberships.get(profile.id)).segments;
    if (evaluator.evaluate(profile, { now, memberships: new Set(Object.keys(memberships)) })) matched.push(profile.id);
  });
  return matched.sort();
}

function pageResult(input: ScanPageInput, cursor: string | undefined, scanned: number, matched: number): ScanPageResult {
  return {
    job: input.job,
    segment: input.segment,
    totalSegments: input.totalSegments,
    ...(cursor !== undefined ? { cursor } : {}),
    scanned: (input.scanned ?? 0) + scanned,
    matched: (input.matched ?? 0) + matched,
  };
}

/**
 * One page of one parallel-scan segment. Snapshot: evaluates the job's segment on each profile and adds the members
 * to the snapshot. Re-check: re-evaluates each profile's time-dependent segments (entering and leaving journeys as
 * streaming evaluation does); nothing is scanned when no segment depends on time.
 */
export async function scanPage(deps: ScanPageDeps, input: ScanPageInput): Promise<ScanPageResult> {
  const { job } = input;
  const limit = deps.pageSize ?? DEFAULT_PAGE_SIZE;
  switch (job.kind) {
    case 'snapshot': {
      const evaluator = await segmentEvaluator(deps, job.segmentId);
      const page = await deps.profileScanner.scan({ segment: input.segment, totalSegments: input.totalSegments, cursor: input.cursor, limit });
      const ids = await members(deps, evaluator, page.profiles, deps.clock.now().getTime());
      if (ids.length > 0) await deps.snapshots.addMembers(job.snapshotId, ids);
      return pageResult(input, page.cursor, page.profiles.length, ids.length);
    }
    case 'recheck': {
      const engine = await deps.segments.engine();
      if (engine.resolve('time').length === 0) return pageResult(input, undefined, 0, 0);
      const page = await deps.profileScanner.scan({ segment: input.segment, totalSegments: input.totalSegments, cursor: input.cursor, limit });
      const journeys = await deps.journeys.list();
      // Job ids are unique per run (the schedule: `recheck-<event id>`; locally `recheck-local-…`).
      const cause = { id: job.jobId, type: 'SegmentRecheck' };
      let changed = 0;
      await forEachLimit(page.profiles, RECHECK_CONCURRENCY, async (profile) => {
        const update = await updateSegments(deps, journeys, profile, 'time', cause);
        if (update.entered.length > 0 || update.exited.length > 0) changed++;
      });
      return pageResult(input, page.cursor, page.profiles.length, changed);
    }
  }
}

export interface JobOutcome {
  job: AudienceJob;
  status: 'complete' | 'failed';
  /** Profiles evaluated over all scan segments. */
  scanned?: number;
  /** Snapshot members. */
  count?: number;
  error?: string;
}

/** After every scan segment is done: a snapshot counts its stored members (exact however often pages were retried) and completes. */
export async function finishJob(deps: Pick<SnapshotScanDeps, 'snapshots' | 'clock'>, job: AudienceJob, parts: readonly { scanned?: number }[] = []): Promise<JobOutcome> {
  const scanned = parts.reduce((sum, p) => sum + (p.scanned ?? 0), 0);
  if (job.kind === 'recheck') return { job, status: 'complete', scanned };
  const count = await deps.snapshots.countMembers(job.snapshotId);
  await deps.snapshots.complete(job.snapshotId, { count, scanned, completedAt: deps.clock.now().toISOString() });
  return { job, status: 'complete', scanned, count };
}

/** What Step Functions catches: `{ Error, Cause }`, the Cause of a Lambda error being its JSON `{ errorMessage }`. */
export function describeFailure(error: unknown): string {
  if (typeof error === 'string') return error.slice(0, 1000);
  const { Error: name, Cause: cause } = (error ?? {}) as { Error?: unknown; Cause?: unknown };
  let detail = typeof cause === 'string' ? cause : '';
  try {
    const parsed = JSON.parse(detail) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') detail = parsed.errorMessage;
  } catch {
    // A plain-text cause is used as it is.
  }
  const text = [typeof name === 'string' ? name : 'Error', detail].filter((p) => p !== '').join(': ');
  return text.slice(0, 1000);
}

/** The Catch path: a snapshot is marked failed with the error (a re-check has nothing to mark). */
export async function failJob(deps: Pick<SnapshotScanDeps, 'snapshots' | 'clock'>, job: AudienceJob, error: unknown): Promise<JobOutcome> {
  const text = describeFailure(error);
  if (job.kind === 'snapshot') await deps.snapshots.fail(job.snapshotId, text, deps.clock.now().toISOString());
  return { job, status: 'failed', error: text };
}

const Job = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('snapshot'), jobId: z.string().min(1), snapshotId: z.string().min(1), segmentId: z.string().min(1) }),
  z.object({ kind: z.literal('recheck'), jobId: z.string().min(1) }),
]);

/** The payloads the audience-scan state machine sends its function (scan-asl.ts). */
export const ScanAction = z.discriminatedUnion('action', [
  z.object({
    action: z.literal('page'),
    /** The Map iteration's state: the previous page's result, or the item selected for the first page. */
    input: z.object({
      job: Job,
      segment: z.number().int().min(0),
      totalSegments: z.number().int().min(1),
      cursor: z.string().optional(),
      scanned: z.number().int().min(0).optional(),
      matched: z.number().int().min(0).optional(),
    }),
  }),
  z.object({ action: z.literal('finish'), job: Job, results: z.array(z.object({ scanned: z.number().optional() }).loose()).default([]) }),
  z.object({ action: z.literal('fail'), job: Job, error: z.unknown() }),
]);
export type ScanAction = z.infer<typeof ScanAction>;

/** Dispatches one call of the audience-scan state machine. A malformed payload is a bug of the definition: it throws. */
export async function runScanAction(deps: ScanPageDeps, payload: unknown): Promise<ScanPageResult | JobOutcome> {
  const parsed = ScanAction.safeParse(payload);
  if (!parsed.success) throw new Error(`invalid audience-scan payload: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const action = parsed.data;
  switch (action.action) {
    case 'page':
      return scanPage(deps, action.input);
    case 'finish':
      return finishJob(deps, action.job, action.results);
    case 'fail':
      return failJob(deps, action.job, action.error);
  }
}

export interface EstimateDeps {
  profileScanner: ProfileScanner;
  memberships: Pick<MembershipStore, 'get'>;
  segments: SegmentCatalog;
  segmentStore: Pick<SegmentStore, 'get'>;
  clock: Clock;
  /** An approximate number of profiles (e.g. the table's item count, refreshed by DynamoDB every few hours); sizes the scan segments. */
  approximateProfileCount?: () => Promise<number | undefined>;
  /** Uniform in [0, 1): picks the scan segments (injectable for tests). */
  random?: () => number;
  pageSize?: number;
}

export interface SegmentEstimate {
  segmentId: string;
  /** Profiles actually evaluated. */
  sampleSize: number;
  matched: number;
  estimatedCount: number;
  /** Every scan segment was read: `estimatedCount` is the exact count. */
  exact: boolean;
  /** How the table was divided, and how many parts were read. */
  totalSegments: number;
  segmentsRead: number;
}

/** Scan segments when the profile count is unknown: a small table is read whole in 16 cheap requests. */
export const DEFAULT_ESTIMATE_SEGMENTS = 16;
/** DynamoDB's limit on TotalSegments. */
const MAX_SCAN_SEGMENTS = 1_000_000;

/**
 * Estimates a segment's size from a sample without reading every profile.
 *
 * Method: the profiles table is divided into T parallel-scan segments, which DynamoDB cuts by hash of the key, so each
 * holds a uniform random share of the profiles. Whole segments are read in random order until at least `sampleSize`
 * profiles were evaluated; with k of T segments read and m members found, the estimate is m · T / k. Only whole
 * segments are read, so k / T is exactly the share of the key space sampled. When all T were read the count is exact.
 *
 * T: with an approximate profile count N, T = ⌊N / sampleSize⌋ (at least 1), so one segment holds about `sampleSize`
 * profiles and usually one segment is read. Without it, T = 16: a small table is read whole (exact), a large one costs
 * N / 16 profiles per segment read, so callers with large tables should pass the count.
 */
export async function estimateSegment(deps: EstimateDeps, segmentId: string, sampleSize: number): Promise<SegmentEstimate> {
  const evaluator = await segmentEvaluator(deps, segmentId);
  const approximate = await deps.approximateProfileCount?.();
  const totalSegments = approximate !== undefined && approximate > 0 ? Math.min(MAX_SCAN_SEGMENTS, Math.max(1, Math.floor(approximate / sampleSize))) : DEFAULT_ESTIMATE_SEGMENTS;
  const order = shuffled(totalSegments, deps.random ?? Math.random);
  const limit = deps.pageSize ?? DEFAULT_PAGE_SIZE;
  const now = deps.clock.now().getTime();
  let evaluated = 0;
  let matched = 0;
  let segmentsRead = 0;
  for (const segment of order) {
    if (evaluated >= sampleSize) break;
    let cursor: string | undefined;
    do {
      const page = await deps.profileScanner.scan({ segment, totalSegments, cursor, limit });
      evaluated += page.profiles.length;
      matched += (await members(deps, evaluator, page.profiles, now)).length;
      cursor = page.cursor;
    } while (cursor !== undefined);
    segmentsRead++;
  }
  const exact = segmentsRead === totalSegments;
  return {
    segmentId,
    sampleSize: evaluated,
    matched,
    estimatedCount: exact ? matched : Math.round((matched * totalSegments) / segmentsRead),
    exact,
    totalSegments,
    segmentsRead,
  };
}

/** The first `count` scan segments, in random order (only as many as are read get drawn). */
function* shuffled(count: number, random: () => number): Generator<number> {
  // A sparse Fisher-Yates: T may be large, and usually one or two segments are read.
  const swapped = new Map<number, number>();
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random() * (count - i));
    const pick = swapped.get(j) ?? j;
    swapped.set(j, swapped.get(i) ?? i);
    yield pick;
  }
}

export interface SnapshotStartDeps {
  segmentStore: Pick<SegmentStore, 'get'>;
  snapshots: Pick<SnapshotStore, 'create' | 'fail'>;
  audienceJobs: AudienceJobs;
  clock: Clock;
  /** The snapshot id (and job id, so the execution name): a random UUID. */
  newId: () => string;
  /** Parallel-scan segments of the job; default 8. */
  scanSegments?: number;
}

/**
 * Starts computing a segment's audience: writes the snapshot header (running) and starts the audience-scan state
 * machine over `scanSegments` parts. Throws NotFoundError when the segment does not exist.
 */
export async function startSnapshot(deps: SnapshotStartDeps, segmentId: string): Promise<SnapshotHeader> {
  const record = await deps.segmentStore.get(segmentId);
  if (!record) throw new NotFoundError(`segment "${segmentId}" does not exist`);
  const id = deps.newId();
  const now = deps.clock.now().toISOString();
  const header: SnapshotHeader = { id, segmentId, segmentVersion: record.version, status: 'running', createdAt: now };
  await deps.snapshots.create(header);
  const totalSegments = deps.scanSegments ?? DEFAULT_SCAN_SEGMENTS;
  try {
    await deps.audienceJobs.start({
      job: { kind: 'snapshot', jobId: id, snapshotId: id, segmentId },
      totalSegments,
      parts: Array.from({ length: totalSegments }, (_, i) => i),
    });
  } catch (error) {
    // Without an execution nothing would ever complete the header: mark it failed, then let the caller see the error.
    await deps.snapshots.fail(id, `the audience scan did not start: ${(error as Error).message}`, deps.clock.now().toISOString());
    throw error;
  }
  return header;
}
