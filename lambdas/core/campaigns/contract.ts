import type { LiveVersion } from '../journey/registry-item';
import type { Campaign } from './schema';

/**
 * The contract between a compiled campaign (compile.ts), the function that runs its steps (the `campaign-step` Lambda,
 * one function for every action, like the audience scan's), the local stack (which runs the very same definition,
 * executing Distributed Map states itself: lambdas/local/distributed-map.ts) and the API that starts and controls runs.
 *
 * A run is ONE Standard execution of the campaign's state machine. Audiences are sets of JSON Lines objects in the
 * audience bucket (`${AudienceBucketName}`); a step that works per member (deliver, split, enter-journey) is a
 * Distributed Map reading the set's object (ItemReader s3:getObject, InputType JSONL) in batches (ItemBatcher with
 * BatchInput), its child workflows STANDARD (a paused batch may wait longer than Express's 5 minutes), its results
 * written to the bucket (ResultWriter) so no output grows with the audience. Waits are one Wait state.
 *
 * Keys: `runs/<campaignId>/<runId>/` is a run's prefix; under it `audience.jsonl` (the audience after exclusions),
 * `sets/<stepId>/<branchId>.jsonl` (a split's outputs), `parts/...` (pages and batches before they are composed),
 * `results/<stepId>/` (ResultWriter). The bucket's lifecycle expires `runs/` (data stack).
 */

/** One audience row: one JSON object per line of a set object. Bounded: at most MAX_ROW_BYTES serialized. */
export interface AudienceRow {
  profileId: string;
  /** The member's IANA zone when its profile has a valid one (`timezone` attribute); local-time delivery reads it. */
  timeZone?: string;
  /** Extra data copied from the profile for `forEach: { path: "row.<name>" }` and templates (`row.<name>`). */
  data?: Record<string, unknown>;
}
export const MAX_ROW_BYTES = 16_384;

/** Why a profile that matched the audience rule is not in the run's audience (counted per reason). */
export const EXCLUSION = {
  segment: 'excluded-segment',
  messaged: 'recently-messaged',
  controlGroup: 'control-group',
  capped: 'audience-capped',
} as const;
export type ExclusionReason = (typeof EXCLUSION)[keyof typeof EXCLUSION];

export type CampaignRunStatus = 'starting' | 'running' | 'paused' | 'cancelling' | 'cancelled' | 'succeeded' | 'failed';
export type RunTrigger = 'api' | 'schedule';

/** The execution input. The API starts `{campaignId, runId, trigger:'api'}`; a schedule `{campaignId, trigger:'schedule', occurrence}`. */
export interface CampaignExecutionInput {
  campaignId: string;
  /** Absent for scheduled runs: `start` derives it from the occurrence, so one occurrence never runs twice. */
  runId?: string;
  trigger: RunTrigger;
  /** Scheduled: EventBridge Scheduler's `<aws.scheduler.scheduled-time>`. */
  occurrence?: string;
  /** Builds the audience and counts what each step would do; sends nothing, enters no journey, skips waits. */
  dryRun?: boolean;
}

/** What every step after `start` finds at `$.run` (small: it travels through the whole execution). */
export interface RunContext {
  campaignId: string;
  runId: string;
  /** `runs/<campaignId>/<runId>/` */
  prefix: string;
  /** The run's start (ISO); local-time delivery and "passed" decisions read the clock, not this. */
  startedAt: string;
  dryRun: boolean;
}

/**
 * The payload of the `campaign-step` function: `action` selects what it does. Every action is idempotent (retries,
 * redrives): pages and batches write deterministic keys, sends go through the ledger keyed (run, step, member).
 */
export type CampaignStepPayload =
  /** Creates (or, for the API, finds) the run record, marks it running. Out: `StartResult`. */
  | { action: 'start'; input: CampaignExecutionInput; executionArn: string; startedAt: string }
  /** One page of one parallel-scan segment: evaluates audience + exclusions, writes a part. Out: `AudiencePageResult`. */
  | { action: 'audience-page'; run: RunContext; segment: number; totalSegments: number; cursor?: string; page?: number; counts?: AudienceCounts }
  /** Composes the parts under a prefix into one set object. Out: `SetRef`. */
  | { action: 'compose'; run: RunContext; parts: string; key: string }
  /** A Distributed Map child's batch (`Items` and `BatchInput` as the ItemBatcher makes them). Out: `BatchResult`. */
  | {
      action: 'deliver' | 'split' | 'enter-journey';
      run: RunContext;
      step: string;
      items: AudienceRow[];
      cursor?: number;
      /** The step's rate (messages or entries per second) and its Map's MaxConcurrency: the batch paces to rate/concurrency. */
      rate?: number;
      concurrency?: number;
    }
  /** Splits a set into groups by the UTC instant of each member's local `at` time. Out: `{ groups: TimeGroup[] }`. */
  | { action: 'group-by-time'; run: RunContext; step: string; set: string }
  /** The run ended (status from the Catch or the end state). */
  | { action: 'finish'; run: RunContext; status: 'succeeded' | 'failed'; error?: unknown };

/** A campaign as deployed: its file, its state machine, and its schedule (absent for on-demand campaigns). */
export interface RegisteredCampaign {
  campaign: Campaign;
  stateMachineArn: string;
  /** The hash of the compiled definition. */
  version: string;
  /** The EventBridge Scheduler schedule's name. */
  scheduleName?: string;
  /**
   * The `live` alias runs start on (API and schedule), as journeys' (lambdas/core/journey/registry-item.ts); absent in
   * items registered before campaign versions, which start on the state machine itself.
   */
  aliasArn?: string;
  /** The version the alias points at (number, ARN, and publication time when the registry holds it). */
  live?: LiveVersion;
}

export interface CampaignRegistry {
  list(): Promise<RegisteredCampaign[]>;
  get(campaignId: string): Promise<RegisteredCampaign | undefined>;
}

/** Journeys-table items: all campaigns share one partition (one Query lists them); CDK writes the same shape. */
export const CAMPAIGNS_PARTITION = 'CAMPAIGNS';
export function campaignItem(record: RegisteredCampaign): Record<string, string> {
  return {
    pk: CAMPAIGNS_PARTITION,
    sk: `CAMPAIGN#${record.campaign.id}`,
    definition: JSON.stringify(record.campaign),
    stateMachineArn: record.stateMachineArn,
    version: record.version,
    ...(record.scheduleName === undefined ? {} : { scheduleName: record.scheduleName }),
    ...(record.aliasArn === undefined ? {} : { aliasArn: record.aliasArn }),
    ...(record.live === undefined ? {} : { liveVersion: record.live.number, liveVersionArn: record.live.arn }),
    ...(record.live?.publishedAt === undefined ? {} : { publishedAt: record.live.publishedAt }),
  };
}
/**
 * Reads a registry item's definition into a campaign, throwing with what is wrong: `parseCampaignDefinition`
 * (stored.ts, the schema) for the campaign handlers, `deployedCampaignShape` (a shape check without zod) for the router.
 */
export type CampaignDefinitionReader = (definition: unknown) => Campaign;

export function fromCampaignItem(item: Record<string, unknown>, read: CampaignDefinitionReader): RegisteredCampaign {
  let campaign: Campaign;
  try {
    campaign = read(JSON.parse(String(item.definition)));
  } catch (error) {
    throw new Error(`campaign item ${String(item.sk)} holds an invalid definition: ${(error as Error).message}`);
  }
  return {
    campaign,
    stateMachineArn: String(item.stateMachineArn),
    version: String(item.version),
    ...(typeof item.scheduleName === 'string' ? { scheduleName: item.scheduleName } : {}),
    ...(typeof item.aliasArn === 'string' ? { aliasArn: item.aliasArn } : {}),
    ...(typeof item.liveVersion === 'string' && typeof item.liveVersionArn === 'string'
      ? { live: { number: item.liveVersion, arn: item.liveVersionArn, ...(typeof item.publishedAt === 'string' ? { publishedAt: item.publishedAt } : {}) } }
      : {}),
  };
}

/** Where runs of a campaign start: its `live` alias, or the state machine for an item registered before versions. */
export const campaignStartArn = (record: Pick<RegisteredCampaign, 'stateMachineArn' | 'aliasArn'>): string =>
  record.aliasArn ?? record.stateMachineArn;

export interface StartResult {
  /** A scheduled occurrence that already ran (a second delivery of the schedule): the execution ends at once. */
  duplicate: boolean;
  run?: RunContext;
  /** Parallel-scan segments for the audience Map: `[0, 1, …, n-1]`. */
  parts?: number[];
  totalSegments?: number;
}

export interface AudienceCounts {
  scanned: number;
  matched: number;
  /** Rows written. */
  members: number;
  excluded: Partial<Record<ExclusionReason, number>>;
}

export interface AudiencePageResult {
  run: RunContext;
  segment: number;
  totalSegments: number;
  /** Absent when this scan segment is done. */
  cursor?: string;
  page: number;
  counts: AudienceCounts;
}

/** A set object and its size. */
export interface SetRef {
  key: string;
  count: number;
}

/**
 * A batch's outcome. `status: 'paused'`: the run is paused; the child waits and calls again from `cursor` (members
 * before it are done). `cancelled`: nothing more is sent. `paceSeconds`: how long the child waits before ending, so the
 * step's Distributed Map (MaxConcurrency children) keeps to the step's rate.
 */
export interface BatchResult {
  status: 'done' | 'paused' | 'cancelled';
  cursor?: number;
  paceSeconds: number;
  run: RunContext;
  step: string;
  items: AudienceRow[];
}

export interface TimeGroup {
  /** The UTC instant this group is sent at (the Wait state's TimestampPath). */
  sendAt: string;
  key: string;
  count: number;
}

/** Counts per run and step; `name` as the issue asks: audience, excluded, sent, suppressed, failed, engagement. */
export const RUN_COUNTER = {
  audience: 'audience',
  excluded: 'excluded',
  assigned: 'assigned',
  sent: 'sent',
  suppressed: 'suppressed',
  failed: 'failed',
  entered: 'entered',
  delivered: 'delivered',
  opened: 'opened',
  clicked: 'clicked',
  bounced: 'bounced',
  complained: 'complained',
  converted: 'converted',
  /** The revenue of conversions (the goal's `value`), same steps and dims as `converted` (conversions.ts). */
  revenue: 'revenue',
  /** Dry runs: what a deliver step would send, an enter-journey step would enter. */
  wouldSend: 'would-send',
  wouldEnter: 'would-enter',
  /** Members an enter-journey step did not enter, by reason (re-entry, exclusive group, profile erased…). */
  notEntered: 'not-entered',
} as const;
export type RunCounterName = (typeof RUN_COUNTER)[keyof typeof RUN_COUNTER];

export interface RunCount {
  /** `''` for run-level counts (audience, excluded). */
  step: string;
  name: RunCounterName;
  /** Exclusion/suppression/failure reason, split branch, or '' */
  dim: string;
  value: number;
}

export interface CampaignRunRecord {
  campaignId: string;
  runId: string;
  status: CampaignRunStatus;
  trigger: RunTrigger;
  occurrence?: string;
  executionArn?: string;
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
  error?: string;
  /** Started as a dry run (`CampaignExecutionInput.dryRun`): nothing sent, counts are estimates. */
  dryRun?: boolean;
  /** Bumped on every status change: conditional writes (pause/resume/cancel races) check it. */
  version: number;
}

/** Run records and their counters (runtime table; lambdas/adapters/dynamodb-campaign-runs.ts). */
export interface CampaignRuns {
  /** Creates the record; false when a run with this id exists (the existing one is left as it is). */
  create(record: CampaignRunRecord): Promise<boolean>;
  get(campaignId: string, runId: string): Promise<CampaignRunRecord | undefined>;
  /** Newest first, at most `limit`; `cursor` pages on. */
  list(campaignId: string, options: { limit: number; cursor?: string }): Promise<{ runs: CampaignRunRecord[]; cursor?: string }>;
  /** Compare-and-set on `version`: false when the record changed meanwhile (the caller reads it again). */
  update(record: CampaignRunRecord, expectedVersion: number): Promise<boolean>;
  /** Adds to counters (sharded like journey counters; callers add once per fact). */
  add(campaignId: string, runId: string, counts: readonly Omit<RunCount, 'value'>[] | readonly RunCount[]): Promise<void>;
  /**
   * Adds the counts of one fact of the run (an audience page, a split batch: `fact` names it) unless that fact was
   * counted before: a marker item written in the same transaction as the counters. False when it already was.
   */
  addOnce(campaignId: string, runId: string, fact: string, counts: readonly RunCount[]): Promise<boolean>;
  counts(campaignId: string, runId: string): Promise<RunCount[]>;
}

/** The audience bucket as the campaign code sees it (S3 adapter; s3rver locally). Keys are relative to the bucket. */
export interface AudienceFiles {
  /** Writes rows as JSON Lines (one object, replacing any previous one: pages and batches are idempotent). */
  writeRows(key: string, rows: readonly AudienceRow[]): Promise<void>;
  /** Streams a set's rows in order. */
  readRows(key: string): AsyncIterable<AudienceRow>;
  /** Keys under a prefix, in lexicographic order. */
  list(prefix: string): Promise<string[]>;
  /**
   * Writes one object from many (multipart for large sets); returns the rows written. A part that does not exist fails
   * it (`NoSuchKey`) and no object is written: every page and batch writes its part, an empty one when it has no rows,
   * so a missing part is lost rows, never an empty page.
   */
  compose(parts: readonly string[], key: string): Promise<number>;
}

/** A message a campaign batch sends itself (journeys send from the state machine; a batch from its function). */
export interface CampaignMessageSender {
  /**
   * Resolves with the provider's message id, or rejects with an error whose `name` is the provider's error name.
   * `origin` (always given by deliver.ts): the SMS type follows the class; the local outbox records where it came from.
   */
  send(
    message: import('../runtime/send').PreparedMessage,
    origin?: CampaignMessageOrigin,
  ): Promise<{ messageId: string }>;
}

/** Where a campaign message comes from: its ledger key and its class. */
export interface CampaignMessageOrigin {
  campaignId: string;
  runId: string;
  /** The ledger's node id: the step, or `<step>#<index>` for a forEach item. */
  nodeId: string;
  profileId: string;
  /** The ledger's execution id, `campaign:<campaignId>:<runId>:<profileId>`. */
  executionId: string;
  messageClass: 'marketing' | 'transactional';
}
