import type { BusinessEvent, FieldError } from '../events/business-event';
import type { ExecutionInput } from '../journey/asl';
import type { Journey } from '../journey/schema';

/** Ports: what the runtime needs from the outside world. Adapters (DynamoDB, Step Functions, EventBridge, local) implement them. */

/** One consent decision: key `email` | `sms` | `push` | `list:<id>`. */
export interface ConsentRecord {
  status: 'opted-in' | 'opted-out';
  at: string;
  source: string;
}

export interface Profile {
  id: string;
  attributes: Record<string, unknown>;
  identities: Record<string, string>;
  /** Consent per channel and subscription list; absent key = no decision recorded. */
  consent?: Record<string, ConsentRecord>;
  createdAt: string;
  updatedAt: string;
}

export interface ProfileStore {
  /** Finds (or creates) the profile an event's identities belong to and applies its attribute updates. */
  upsertFromEvent(event: BusinessEvent): Promise<Profile>;
  get(profileId: string): Promise<Profile | undefined>;
}

export interface JourneyRecord {
  journey: Journey;
  stateMachineArn: string;
  version: string;
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
}

export type LedgerStatus = 'prepared' | 'sent' | 'failed' | 'suppressed';

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

export interface EventPublisher {
  publish(events: BusinessEvent[]): Promise<void>;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
