import type { DecisionLog, PlacementDecision } from '../decisions/ports';
import { stepKey } from '../journey/graph';
import type { Journey, JourneyNode } from '../journey/schema';
import type {
  ExecutionHistory,
  JourneyRegistry,
  LedgerRecord,
  LedgerStatus,
  ProfileRuns,
  ProfileStore,
  RunRef,
  RunStatus,
  RunSummary,
  RunTrace,
  StateVisit,
} from './ports';
import { HOLDOUT } from '../measure/assignment';

/**
 * "Why" (M4): for one profile, the journey runs it had and, per run, the nodes it went through with their times, each
 * message with its outcome, each decision with its explanation, the variant it was assigned and how it ended. Read
 * from what the platform keeps anyway: the runtime table (enrollments, runs, the send ledger, decision keys) and
 * Step Functions' execution history. Nothing is written; erasing the profile removes what finds its runs.
 */

/** Every read is bounded, so one request costs at most this much (lambdas/core/runtime/README.md). */
export const WHY_LIMITS = {
  /** Profile ids read: the profile and the profiles merged into it. */
  profileIds: 20,
  /** Profile-index keys read per profile id to find its runs. */
  indexKeys: 1000,
  /** Runs described (DescribeExecution) to order a listing newest first. */
  runsDescribed: 100,
  /** Runs in a listing: default and most. */
  listDefault: 20,
  listMax: 50,
  /** Runs explained for one journey: default and most. */
  explainDefault: 5,
  explainMax: 20,
  /** Execution-history events read per run explained. */
  historyEvents: 1000,
  /** Ledger items (messages) read per run. */
  messages: 100,
  /** Decide nodes looked up per run. */
  decisions: 20,
} as const;

/** How a run ended; the names of the `exited` counter's reasons, plus `stopped` for a stop no one explained. */
export type EndReason = 'completed' | 'exit-criteria' | 'timeout' | 'erased' | 'failed' | 'preempted' | 'stopped';

export interface RunEnd {
  reason: EndReason;
  at?: string;
  error?: string;
  cause?: string;
}

/** The stop causes the platform writes (privacy.ts: `profile erased`; segments.ts: `exit criteria: …`). */
export function endOf(summary: Pick<RunSummary, 'status' | 'stoppedAt' | 'error' | 'cause'>): RunEnd | null {
  const at = summary.stoppedAt === undefined ? {} : { at: summary.stoppedAt };
  const why = { ...(summary.error ? { error: summary.error } : {}), ...(summary.cause ? { cause: summary.cause } : {}) };
  switch (summary.status) {
    case 'RUNNING':
    case 'PENDING_REDRIVE':
      return null;
    case 'SUCCEEDED':
      return { reason: 'completed', ...at };
    case 'TIMED_OUT':
      return { reason: 'timeout', ...at };
    case 'FAILED':
      return { reason: 'failed', ...at, ...why };
    case 'ABORTED': {
      const cause = summary.cause ?? '';
      const reason: EndReason = /^profile erased/i.test(cause)
        ? 'erased'
        : /^exit criteria/i.test(cause)
          ? 'exit-criteria'
          : /preempt/i.test(cause)
            ? 'preempted'
            : 'stopped';
      return { reason, ...at, ...why };
    }
  }
}

/**
 * The journey node a compiled state belongs to: states are named `<node>` or `<node>.<part>` (`.route`, `.deliver`,
 * `.record`, `.wait`, `.branch`… see journey/compile.ts), and node ids are kebab-case, never holding a dot. With the
 * journey's node ids, a state of no node (a definition since changed) maps to none.
 */
export function nodeOfState(state: string, nodeIds?: ReadonlySet<string>): string | undefined {
  const id = state.split('.')[0];
  if (id === '') return undefined;
  return nodeIds === undefined || nodeIds.has(id) ? id : undefined;
}

export interface NodeVisit {
  node: string;
  kind?: JourneyNode['kind'];
  enteredAt: string;
  /** Absent while the run is in the node. */
  exitedAt?: string;
  /** The compiled states it went through there, in order. */
  states: string[];
}

/**
 * The nodes a run went through, in order: consecutive states of one node are one visit, entered when its first state
 * was and left when its last state was (a node's later states, e.g. a push's branch, may exit after the first).
 */
export function nodesTaken(states: readonly StateVisit[], journey?: Journey): NodeVisit[] {
  const kinds = new Map(journey?.nodes.map((n) => [n.id, n.kind] as const) ?? []);
  const ids = journey ? new Set(kinds.keys()) : undefined;
  const groups: { node: string; visits: StateVisit[] }[] = [];
  for (const visit of states) {
    const node = nodeOfState(visit.state, ids);
    if (node === undefined) continue;
    if (groups.at(-1)?.node !== node) groups.push({ node, visits: [] });
    groups.at(-1)!.visits.push(visit);
  }
  return groups.map(({ node, visits }) => {
    const kind = kinds.get(node);
    // Left when every one of its states was left; a state still entered keeps the node open.
    const exits = visits.map((v) => v.exitedAt);
    const left = exits.every((e) => e !== undefined) ? exits.reduce((a, b) => (b! > a! ? b : a)) : undefined;
    return {
      node,
      ...(kind ? { kind } : {}),
      enteredAt: visits[0].enteredAt,
      ...(left !== undefined ? { exitedAt: left } : {}),
      states: visits.map((v) => v.state),
    };
  });
}

export type MessageOutcome = LedgerStatus | 'delivered' | 'undelivered' | 'bounced' | 'complained' | 'opened' | 'clicked';

export interface MessageExplanation {
  node: string;
  channel: string;
  /** The furthest known: clicked, opened, complained, bounced, delivered, else the ledger's status. */
  outcome: MessageOutcome;
  status: LedgerStatus;
  /** Why it was suppressed (consent, suppression list, quiet hours…). */
  reason?: string;
  /** The provider's error, for `failed` and `unknown`. */
  error?: string;
  preparedAt: string;
  messageId?: string;
  deliveredAt?: string;
  openedAt?: string;
  clickedAt?: string;
  bouncedAt?: string;
  complainedAt?: string;
  /** An SMS its carrier reported undelivered. */
  undeliveredAt?: string;
}

const ENGAGEMENT = ['clickedAt', 'openedAt', 'complainedAt', 'bouncedAt', 'undeliveredAt', 'deliveredAt'] as const;
const OUTCOME_OF: Record<(typeof ENGAGEMENT)[number], MessageOutcome> = {
  clickedAt: 'clicked',
  openedAt: 'opened',
  complainedAt: 'complained',
  bouncedAt: 'bounced',
  undeliveredAt: 'undelivered',
  deliveredAt: 'delivered',
};

/** A ledger item as the outcome of its message; engagement times are read when present (engagement events add them). */
export function messageOf(record: LedgerRecord): MessageExplanation {
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
  const reached = ENGAGEMENT.find((field) => text(record[field]) !== undefined);
  const out: MessageExplanation = {
    node: record.nodeId,
    channel: record.channel,
    outcome: reached ? OUTCOME_OF[reached] : record.status,
    status: record.status,
    preparedAt: record.preparedAt,
  };
  for (const field of ['reason', 'error', 'messageId', ...ENGAGEMENT] as const) {
    const value = text(record[field]);
    if (value !== undefined) out[field] = value;
  }
  return out;
}

export interface DecisionExplanation {
  node: string;
  decisionId: string;
  at: string;
  /** Per placement: the offers chosen and, for every offer considered, why it was or was not. */
  placements: Record<string, PlacementDecision>;
}

export interface VariantAssignment {
  /** The split node, or `journey` for the journey's holdout. */
  node: string;
  /** The split's variant id or `holdout`; `holdout` for the journey's holdout. */
  variant: string;
  /** The run went through the split (a run is assigned every split at entry; it may end or branch before one). */
  reached: boolean;
}

/**
 * The variants a run was assigned, as its start input records them: `enterJourney` decides the journey holdout and
 * every split's variant when the run enters (measure/assignment.ts) and starts the run with them (`holdout: true`,
 * `variants` by step key), which the split's Choice follows and the counters count. The input is the run's own
 * record: right whatever version it started on, however the journey's weights or holdout changed since, and for a
 * profile merged since. Without it (Step Functions no longer keeps the run) nothing is said: a recomputed assignment
 * would use today's definition.
 */
export function variantsOf(assignment: RunTrace['assignment'], nodes: readonly NodeVisit[] = [], journey?: Journey): VariantAssignment[] {
  if (!assignment) return [];
  const byKey = new Map(journey?.nodes.map((n) => [stepKey(n.id), n.id] as const) ?? []);
  const taken = new Set(nodes.map((n) => n.node));
  const out: VariantAssignment[] = assignment.holdout ? [{ node: 'journey', variant: HOLDOUT, reached: true }] : [];
  for (const key of Object.keys(assignment.variants)) {
    // A step key of no node of the journey (a split since removed) is shown as the node id it was (`_` → `-`).
    const node = byKey.get(key) ?? key.replace(/_/g, '-');
    out.push({ node, variant: assignment.variants[key], reached: taken.has(node) });
  }
  return out;
}

export interface RunOverview {
  journeyId: string;
  executionArn: string;
  /** `unknown`: Step Functions no longer has it (its history is kept 90 days after it ended). */
  status: RunStatus | 'UNKNOWN';
  startedAt?: string;
  end: RunEnd | null;
}

export interface RunExplanation extends RunOverview {
  nodes: NodeVisit[];
  messages: MessageExplanation[];
  decisions: DecisionExplanation[];
  variants: VariantAssignment[];
  /** The execution history had more events than were read (WHY_LIMITS.historyEvents). */
  historyTruncated: boolean;
}

export interface WhyDeps {
  profiles: Pick<ProfileStore, 'get'>;
  profileRuns: ProfileRuns;
  history: ExecutionHistory;
  decisionLog: Pick<DecisionLog, 'findByKey'>;
  journeys: Pick<JourneyRegistry, 'get'>;
}

/** Runs a few reads at a time (a listing describes up to 100 runs; Step Functions throttles bursts). */
async function inBatches<T, R>(items: readonly T[], size: number, read: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(read))));
  return out;
}

/** The profile (following merges) and the runs its items and those of the profiles merged into it name. */
async function runsOf(deps: WhyDeps, profileId: string, journeyId?: string) {
  const profile = await deps.profiles.get(profileId, { recentEvents: false });
  if (!profile) return undefined;
  // A merged profile's runs carry the old ids: read each (bounded).
  const ids = [profile.id, ...(profile.mergedIds ?? []).filter((id) => id !== profile.id)];
  const read = ids.slice(0, WHY_LIMITS.profileIds);
  const found = await Promise.all(
    read.map((id) => deps.profileRuns.list(id, { ...(journeyId === undefined ? {} : { journeyId }), maxKeys: WHY_LIMITS.indexKeys })),
  );
  const runs = new Map<string, RunRef>();
  for (const run of found.flatMap((f) => f.runs)) {
    const held = runs.get(run.executionArn);
    if (!held || (held.enteredAt === undefined && run.enteredAt !== undefined)) runs.set(run.executionArn, run);
  }
  return { profile, ids: read, runs: [...runs.values()], truncated: read.length < ids.length || found.some((f) => f.truncated) };
}

const newestFirst = (a: { startedAt?: string; enteredAt?: string }, b: { startedAt?: string; enteredAt?: string }) =>
  (b.startedAt ?? b.enteredAt ?? '').localeCompare(a.startedAt ?? a.enteredAt ?? '');

/** Orders runs newest first by their start, describing at most WHY_LIMITS.runsDescribed (those known newest first). */
async function described(deps: WhyDeps, runs: readonly RunRef[]): Promise<{ overviews: RunOverview[]; truncated: boolean }> {
  const candidates = [...runs].sort(newestFirst).slice(0, WHY_LIMITS.runsDescribed);
  const overviews = await inBatches(candidates, 10, async (run): Promise<RunOverview> => {
    const summary = await deps.history.describe(run.executionArn);
    if (!summary) return { journeyId: run.journeyId, executionArn: run.executionArn, status: 'UNKNOWN', ...(run.enteredAt ? { startedAt: run.enteredAt } : {}), end: null };
    return { journeyId: run.journeyId, executionArn: run.executionArn, status: summary.status, startedAt: summary.startedAt, end: endOf(summary) };
  });
  return { overviews: overviews.sort(newestFirst), truncated: candidates.length < runs.length };
}

export interface ProfileJourneys {
  profileId: string;
  runs: RunOverview[];
  /** More runs exist than were read or listed (see WHY_LIMITS). */
  truncated: boolean;
}

/** `GET /profiles/{id}/journeys`: the profile's runs, newest first; undefined for an unknown profile. */
export async function listProfileJourneys(deps: WhyDeps, profileId: string, options: { limit?: number } = {}): Promise<ProfileJourneys | undefined> {
  const limit = options.limit ?? WHY_LIMITS.listDefault;
  const found = await runsOf(deps, profileId);
  if (!found) return undefined;
  const { overviews, truncated } = await described(deps, found.runs);
  return { profileId: found.profile.id, runs: overviews.slice(0, limit), truncated: found.truncated || truncated || overviews.length > limit };
}

export interface ProfileJourneyExplanation {
  profileId: string;
  journeyId: string;
  runs: RunExplanation[];
  truncated: boolean;
}

/**
 * `GET /profiles/{id}/journeys/{journeyId}`: each run of the journey, newest first, explained. Undefined for an unknown
 * profile; `journey: 'unknown'` when the journey is neither deployed nor named by any of the profile's runs.
 */
export async function explainProfileJourney(
  deps: WhyDeps,
  profileId: string,
  journeyId: string,
  options: { limit?: number } = {},
): Promise<ProfileJourneyExplanation | 'unknown-journey' | undefined> {
  const limit = options.limit ?? WHY_LIMITS.explainDefault;
  const found = await runsOf(deps, profileId, journeyId);
  if (!found) return undefined;
  const record = await deps.journeys.get(journeyId);
  const runs = found.runs.filter((r) => r.journeyId === journeyId);
  if (!record && runs.length === 0) return 'unknown-journey';
  const { overviews, truncated } = await described(deps, runs);
  const explained = await inBatches(overviews.slice(0, limit), 5, (overview) => explainRun(deps, overview, found.ids, record?.journey));
  return { profileId: found.profile.id, journeyId, runs: explained, truncated: found.truncated || truncated || overviews.length > limit };
}

async function explainRun(deps: WhyDeps, overview: RunOverview, profileIds: readonly string[], journey?: Journey): Promise<RunExplanation> {
  const [trace, ledger] = await Promise.all([
    overview.status === 'UNKNOWN' ? undefined : deps.history.trace(overview.executionArn, { maxEvents: WHY_LIMITS.historyEvents }),
    deps.profileRuns.messages(overview.executionArn, WHY_LIMITS.messages),
  ]);
  const nodes = trace ? nodesTaken(trace.states, journey) : [];
  const messages = ledger.map(messageOf).sort((a, b) => a.preparedAt.localeCompare(b.preparedAt));
  const decisions = await decisionsOf(deps, overview.executionArn, decideNodes(nodes, journey), profileIds);
  return {
    ...overview,
    ...(trace ? { status: trace.status, startedAt: trace.startedAt, end: endOf(trace) } : {}),
    nodes,
    messages,
    decisions,
    variants: variantsOf(trace?.assignment, nodes, journey),
    historyTruncated: trace?.truncated ?? false,
  };
}

/** The decide nodes the run went through (by the journey's definition; without it, every node taken is tried). */
function decideNodes(nodes: readonly NodeVisit[], journey?: Journey): string[] {
  const ids = nodes.filter((n) => journey === undefined || n.kind === 'decide').map((n) => n.node);
  return [...new Set(ids)].slice(0, WHY_LIMITS.decisions);
}

/**
 * A journey's decide step decides with the idempotency key `<execution ARN>#<node>` (app/journey-steps.ts), so the
 * decision log answers exactly the run's decision, explanation included. The key is the profile's at decision time:
 * the profile or one merged into it.
 */
async function decisionsOf(deps: WhyDeps, executionArn: string, nodes: readonly string[], profileIds: readonly string[]): Promise<DecisionExplanation[]> {
  const out: DecisionExplanation[] = [];
  for (const node of nodes) {
    for (const profileId of profileIds) {
      const state = await deps.decisionLog.findByKey(profileId, `${executionArn}#${node}`);
      if (state?.status !== 'done') continue;
      out.push({ node, decisionId: state.record.id, at: state.record.at, placements: state.record.placements });
      break;
    }
  }
  return out;
}
