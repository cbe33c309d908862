import type { BusinessEvent, FieldError } from '../events/business-event';
import type { ExecutionInput } from '../journey/asl';
import type { LiveVersion } from '../journey/registry-item';
import type { Journey } from '../journey/schema';
import type { ComputedStats, ConsentChange, ConsentVia, RecentEvent } from '../profiles/model';

/** Ports: what the runtime needs from the outside world. Adapters (DynamoDB, Step Functions, EventBridge, local) implement them. */

/** One consent decision: key `email` | `sms` | `push` | `list:<id>`. */
export interface ConsentRecord {
  status: 'opted-in' | 'opted-out';
  at: string;
  source: string;
  /** How it arrived (`event` when absent); explicit decisions outrank event-borne ones (lambdas/core/consent/README.md). */
  via?: ConsentVia;
  /** The last changes received for the key, newest first (at most 20). */
  history?: ConsentChange[];
}

export interface Profile {
  id: string;
  attributes: Record<string, unknown>;
  identities: Record<string, string>;
  /** Consent per channel and subscription list; absent key = no decision recorded. */
  consent?: Record<string, ConsentRecord>;
  createdAt: string;
  updatedAt: string;
  /** Every linked value per namespace (several devices, two emails after a merge), first linked first; `identities` holds the first of each. */
  identityValues?: Record<string, string[]>;
  /** When each attribute's value was set (event time) and by which source. */
  attributeTimes?: Record<string, string>;
  attributeSources?: Record<string, string>;
  /** Per event type: how many, first and last seen, and totals of its numeric properties. */
  computed?: Record<string, ComputedStats>;
  /** Profiles merged into this one: runs that started for them carry their ids. */
  mergedIds?: string[];
  /** Segments the profile is a member of (id → when it entered); filled in where segmentation has read them. */
  segments?: Record<string, string>;
  /** The latest events, newest first (bounded in count and age); filled in by reads, not by `ingest`. */
  recentEvents?: RecentEvent[];
  version?: number;
}

export interface IngestResult {
  profile: Profile;
  /** The event id was processed before: nothing changed. */
  duplicate: boolean;
  /** Profiles this call absorbed into `profile` (each warrants a ProfileMerged event). */
  merged: string[];
}

export interface ProfileStore {
  /** Finds (or creates) the profile an event's identities belong to and applies its attribute updates. */
  upsertFromEvent(event: BusinessEvent): Promise<Profile>;
  /**
   * The profile, following merges: the id of an absorbed profile returns the profile that absorbed it. With
   * `recentEvents: false` the event window is not read (one request less, for callers that do not use it).
   */
  get(profileId: string, options?: { recentEvents?: boolean }): Promise<Profile | undefined>;
  /** `get` of many ids in a few batched requests, results in the order of `profileIds` (campaign batches). */
  getMany?(profileIds: readonly string[], options?: { recentEvents?: boolean }): Promise<(Profile | undefined)[]>;
  /** Resolves the event's identities (merging the profiles it links), applies it once per event id. */
  ingest(event: BusinessEvent): Promise<IngestResult>;
  findByIdentity(namespace: string, value: string): Promise<Profile | undefined>;
}

/** The profile store with the identity graph: resolves identities, merges the profiles an event links, applies each event id once. */
/** What erasure and export need from the profile store. */
export interface PrivacyProfileStore {
  exportData(profileId: string): Promise<{ profile: Profile; profileIds: string[]; events: RecentEvent[] } | undefined>;
  erase(profileId: string): Promise<{ profileIds: string[]; items: number } | undefined>;
}

export interface IdentityGraphProfileStore extends ProfileStore, PrivacyProfileStore {
  ingest(event: BusinessEvent): Promise<IngestResult>;
  findByIdentity(namespace: string, value: string): Promise<Profile | undefined>;
}

export interface JourneyRecord {
  journey: Journey;
  stateMachineArn: string;
  version: string;
  /** The `live` alias executions start on (absent for an item registered before versions: the state machine). */
  aliasArn?: string;
  /** The version the alias points at, and when it was published. */
  live?: LiveVersion;
}

/** What Step Functions knows of a published state-machine version. */
export interface StateMachineVersions {
  /** When the version was published (ISO-8601), or undefined when it no longer exists. */
  publishedAt(versionArn: string): Promise<string | undefined>;
}

export interface JourneyRegistry {
  list(): Promise<JourneyRecord[]>;
  get(journeyId: string): Promise<JourneyRecord | undefined>;
}

/** The latest run of a journey for a profile (re-entrance is decided from it). */
export interface Enrollment {
  journeyId: string;
  profileId: string;
  executionName: string;
  executionArn: string;
  enteredAt: string;
}

export interface EnrollmentStore {
  get(journeyId: string, profileId: string): Promise<Enrollment | undefined>;
  /**
   * Records a new run, only if the latest run is still `expectedPrevious` (its execution name, or undefined for none).
   * Returns false when another writer got there first.
   */
  replace(enrollment: Enrollment, expectedPrevious: string | undefined): Promise<boolean>;
  /** Records a run of a journey that allows parallel runs (re-entrance `always`), so erasure can find and stop it. */
  recordRun(enrollment: Enrollment, expiresAt: number): Promise<void>;
}

/** One registration of a waiting execution under one correlation key. */
export interface WaitRegistration {
  key: string;
  executionId: string;
  nodeId: string;
  token: string;
  profileId: string;
  expiresAt: number;
}

export interface WaitIndex {
  register(registrations: WaitRegistration[]): Promise<void>;
  find(key: string): Promise<WaitRegistration[]>;
  remove(registration: Pick<WaitRegistration, 'key' | 'executionId' | 'nodeId'>): Promise<void>;
}

export interface Executions {
  /** Starts an execution with a deterministic name; `started: false` when that name already ran (idempotent retry). */
  start(stateMachineArn: string, name: string, input: ExecutionInput): Promise<{ executionArn: string; started: boolean }>;
  isRunning(executionArn: string): Promise<boolean>;
  /** Completes a waiting task; 'gone' when the token is no longer valid (timed out, already resumed, execution ended). */
  resume(token: string, output: unknown): Promise<'resumed' | 'gone'>;
  /** Stops a running execution (erasure); false when it had already ended. */
  stop(executionArn: string, cause: string): Promise<boolean>;
}

/** A runtime-table item that belongs to a profile (found through the profile index). */
export interface ProfileRecord {
  pk: string;
  sk: string;
  kind: 'enrollment' | 'run' | 'wait' | 'ledger' | 'decision' | 'offer-cap' | 'send-cap' | 'conversion' | 'other';
  executionId?: string;
  item: Record<string, unknown>;
}

/** Everything the runtime holds about profiles: enrollments, runs, waits, ledger entries. */
export interface ProfileRecords {
  list(profileId: string): Promise<ProfileRecord[]>;
  remove(records: readonly Pick<ProfileRecord, 'pk' | 'sk'>[]): Promise<void>;
}

/**
 * `failed`: the provider refused the message, nothing went out (a later retry of the step may send it).
 * `unknown`: the provider may have sent it (a timeout, an error after the request): it is never sent again.
 */
export type LedgerStatus = 'prepared' | 'sent' | 'failed' | 'unknown' | 'suppressed';

export interface LedgerEntry {
  executionId: string;
  nodeId: string;
  status: LedgerStatus;
  journeyId: string;
  profileId: string;
  channel: string;
  reason?: string;
  preparedAt: string;
}

export interface Ledger {
  get(executionId: string, nodeId: string): Promise<LedgerEntry | undefined>;
  /** Writes the entry unless the message was already sent; false when it was. */
  prepare(entry: LedgerEntry): Promise<boolean>;
}

/** How a message a function delivered itself (a campaign batch) ended, as the journeys' delivery states write it. */
export type DeliverySettlement =
  | { status: 'sent'; messageId: string }
  | { status: 'failed' | 'unknown'; error: string };

/** The ledger of senders that call the provider themselves: they record the outcome after the call. */
export interface DeliveryLedger extends Ledger {
  /**
   * Moves the entry from `prepared` to the outcome (with `messageId` or `error`); false when it is not `prepared` (an
   * outcome recorded already, or the entry erased): only the write that returns true makes the outcome a fact.
   */
  settle(executionId: string, nodeId: string, outcome: DeliverySettlement): Promise<boolean>;
  /** `get` of many entries in a few batched requests, results in the order of `keys` (campaign batches). */
  getMany?(keys: readonly { executionId: string; nodeId: string }[]): Promise<(LedgerEntry | undefined)[]>;
}

/**
 * A ledger item as stored: the entry, what the delivery states wrote (`messageId`, `error`), and the engagement times
 * that engagement events record when they arrive (each optional: absent until that event is seen).
 */
export interface LedgerRecord extends LedgerEntry {
  messageId?: string;
  error?: string;
  deliveredAt?: string;
  openedAt?: string;
  clickedAt?: string;
  bouncedAt?: string;
  complainedAt?: string;
  /** An SMS its carrier reported undelivered (End User Messaging status events). */
  undeliveredAt?: string;
}

/** A run of a journey named by a profile's runtime items; `enteredAt` when the item that named it says so. */
export interface RunRef {
  journeyId: string;
  executionArn: string;
  enteredAt?: string;
}

/** What "why" reads of the runtime table: the runs a profile's items name, and the send ledger of one run. */
export interface ProfileRuns {
  /**
   * The runs named by the profile's enrollments, recorded runs (`always`), ledger entries and journey decision keys,
   * reading at most `maxKeys` keys of the profile index (`truncated` when there were more); one per execution.
   */
  list(profileId: string, options: { journeyId?: string; maxKeys: number }): Promise<{ runs: RunRef[]; truncated: boolean }>;
  /** The ledger items of one run (one per send node), at most `limit`. */
  messages(executionArn: string, limit: number): Promise<LedgerRecord[]>;
  /**
   * Which of these senders (a journey id, or `campaign:<id>` for a campaign) sent the profile a message (ledger status
   * other than failed or suppressed) prepared at or after the sender's `since`, reading at most `maxKeys` ledger keys
   * of each campaign and `maxKeys` of all journeys.
   */
  messagedBy(profileId: string, senders: readonly MessageSender[], maxKeys: number): Promise<string[]>;
}

/** A sender of messages as the ledger names it (`journeyId` of its entries) and the start of the window asked about. */
export interface MessageSender {
  journeyId: string;
  /** ISO-8601. */
  since: string;
}

/** A Step Functions execution's status (DescribeExecution). */
export type RunStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';

export interface RunSummary {
  executionArn: string;
  status: RunStatus;
  startedAt: string;
  stoppedAt?: string;
  /** Why it failed or was stopped (a stop's cause says who stopped it: erasure, exit criteria, preemption). */
  error?: string;
  cause?: string;
}

/** One state a run entered, with when it entered and left it (absent while it is in it). */
export interface StateVisit {
  state: string;
  enteredAt: string;
  exitedAt?: string;
}

export interface RunTrace extends RunSummary {
  /** The states in the order entered (nested ones, e.g. a push's Parallel branch, included). */
  states: StateVisit[];
  /** The history had more events than were read. */
  truncated: boolean;
  /**
   * What the run was assigned at entry, read from its start input (`holdout`, `variants` by step key: runtime/enter.ts);
   * absent when the input cannot be read.
   */
  assignment?: { holdout: boolean; variants: Record<string, string> };
}

/** Step Functions' own record of a run: its status and the states it went through (AWS: 90 days after it ended). */
export interface ExecutionHistory {
  /** Undefined when the execution is not known (never started, or its history is no longer kept). */
  describe(executionArn: string): Promise<RunSummary | undefined>;
  /** The status and states of a run, reading at most `maxEvents` history events. */
  trace(executionArn: string, options: { maxEvents: number }): Promise<RunTrace | undefined>;
}

export interface RejectedEvent {
  receivedAt: string;
  origin: string;
  errors: FieldError[];
  raw: unknown;
}

export interface RejectedEventStore {
  put(rejected: RejectedEvent): Promise<void>;
  list(limit: number): Promise<RejectedEvent[]>;
}

/** Erasure's view of the rejected events: deletes those that mention any of these `namespace:value` identities. */
export interface RejectedEventEraser {
  eraseMentioning(mentions: readonly string[]): Promise<number>;
}

export interface EventPublisher {
  publish(events: BusinessEvent[]): Promise<void>;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
