/**
 * In-memory fakes of the runtime ports (lambdas/core/runtime/ports.ts), injected into the core functions.
 * Each keeps the conditional semantics of its DynamoDB / Step Functions adapter and records what was asked of it,
 * so a test can assert both the outcome and that nothing was written.
 */
import type { BusinessEvent } from '../../../lambdas/core/events/business-event';
import type { ExecutionInput } from '../../../lambdas/core/journey/asl';
import { executionArnOf, LIVE_ALIAS, validateJourney, type Journey } from '../../../lambdas/core/journey';
import { parseDuration } from '../../../lambdas/core/shared/duration';
import type {
  Clock,
  Enrollment,
  EventPublisher,
  EnrollmentStore,
  Executions,
  JourneyRecord,
  IngestResult,
  JourneyRegistry,
  Ledger,
  LedgerEntry,
  LedgerStatus,
  Profile,
  ProfileStore,
  RejectedEvent,
  RejectedEventStore,
  WaitIndex,
  WaitRegistration,
} from '../../../lambdas/core/runtime/ports';

export class FakeClock implements Clock {
  private current: number;
  constructor(start: string | Date = '2026-06-01T12:00:00.000Z') {
    this.current = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.current);
  }
  set(at: string | Date): void {
    this.current = new Date(at).getTime();
  }
  /** Moves time forward by a journey duration (`30d`, `1h`). */
  advance(duration: string): void {
    this.current += parseDuration(duration) * 1000;
  }
}

/**
 * Profiles found by any identity of an event, a new one for unknown identities; `ingest` applies each event id once.
 * Merges are not modelled: a test sets `mergeNext` to have the next ingest report absorbed profiles.
 */
export class MemoryProfileStore implements ProfileStore {
  readonly profiles = new Map<string, Profile>();
  private readonly byIdentity = new Map<string, string>();
  /** Every event passed to `upsertFromEvent` or `ingest`, in order (the writes). */
  readonly writes: BusinessEvent[] = [];
  private readonly applied = new Set<string>();
  mergeNext: string[] = [];
  private counter = 0;

  constructor(private readonly clock: Clock = new FakeClock()) {}

  /** Seeds a profile (not counted as a write). */
  add(profile: Partial<Profile> & { id: string }): Profile {
    const now = this.clock.now().toISOString();
    const full: Profile = { attributes: {}, identities: {}, createdAt: now, updatedAt: now, ...profile };
    this.profiles.set(full.id, full);
    for (const [ns, value] of Object.entries(full.identities)) this.byIdentity.set(`${ns}#${value}`, full.id);
    return full;
  }

  async upsertFromEvent(event: BusinessEvent): Promise<Profile> {
    this.writes.push(structuredClone(event));
    return this.apply(event);
  }

  async ingest(event: BusinessEvent): Promise<IngestResult> {
    this.writes.push(structuredClone(event));
    const merged = this.mergeNext;
    this.mergeNext = [];
    if (this.applied.has(event.id)) {
      const id = this.resolve(event);
      const existing = id === undefined ? undefined : await this.get(id);
      if (existing) return { profile: existing, duplicate: true, merged };
    }
    this.applied.add(event.id);
    return { profile: this.apply(event), duplicate: false, merged };
  }

  async findByIdentity(namespace: string, value: string): Promise<Profile | undefined> {
    const id = this.byIdentity.get(`${namespace}#${value}`);
    return id === undefined ? undefined : this.get(id);
  }

  private resolve(event: BusinessEvent): string | undefined {
    return Object.entries(event.identities)
      .map(([ns, value]) => this.byIdentity.get(`${ns}#${value}`))
      .find((id) => id !== undefined);
  }

  private apply(event: BusinessEvent): Profile {
    const known = this.resolve(event);
    const existing = known === undefined ? undefined : this.profiles.get(known);
    const id = existing?.id ?? `p-${++this.counter}`;
    const profile: Profile = {
      id,
      attributes: { ...existing?.attributes, ...event.attributes },
      identities: { ...event.identities, ...existing?.identities },
      createdAt: existing?.createdAt ?? event.time,
      updatedAt: event.time,
      ...(existing?.mergedIds ? { mergedIds: existing.mergedIds } : {}),
    };
    this.profiles.set(id, profile);
    for (const [ns, value] of Object.entries(event.identities)) if (!this.byIdentity.has(`${ns}#${value}`)) this.byIdentity.set(`${ns}#${value}`, id);
    return structuredClone(profile);
  }

  async get(profileId: string): Promise<Profile | undefined> {
    const profile = this.profiles.get(profileId);
    return profile && structuredClone(profile);
  }
}

export class MemoryJourneyRegistry implements JourneyRegistry {
  constructor(readonly records: JourneyRecord[] = []) {}
  async list(): Promise<JourneyRecord[]> {
    return this.records;
  }
  async get(journeyId: string): Promise<JourneyRecord | undefined> {
    return this.records.find((r) => r.journey.id === journeyId);
  }
}

type EnrollmentCall = { op: 'get'; journeyId: string; profileId: string } | { op: 'replace'; enrollment: Enrollment; expectedPrevious: string | undefined; ok: boolean } | { op: 'recordRun'; enrollment: Enrollment; expiresAt: number };

/** The latest run per (journey, profile), replaced only if the stored execution name is the expected one (as DynamoEnrollmentStore). */
export class MemoryEnrollmentStore implements EnrollmentStore {
  readonly items = new Map<string, Enrollment>();
  readonly runs: { enrollment: Enrollment; expiresAt: number }[] = [];
  readonly calls: EnrollmentCall[] = [];
  /** Runs after a `get` has read its value and before it returns: lets a competing writer slip in. */
  afterGet?: () => void;

  private static key(journeyId: string, profileId: string): string {
    return `${journeyId}#${profileId}`;
  }

  /** Writes unconditionally, as a competing router instance that won would have (not recorded as a call). */
  put(enrollment: Enrollment): void {
    this.items.set(MemoryEnrollmentStore.key(enrollment.journeyId, enrollment.profileId), { ...enrollment });
  }

  async get(journeyId: string, profileId: string): Promise<Enrollment | undefined> {
    this.calls.push({ op: 'get', journeyId, profileId });
    const item = this.items.get(MemoryEnrollmentStore.key(journeyId, profileId));
    const copy = item && { ...item };
    const hook = this.afterGet;
    this.afterGet = undefined;
    hook?.();
    return copy;
  }

  async replace(enrollment: Enrollment, expectedPrevious: string | undefined): Promise<boolean> {
    const key = MemoryEnrollmentStore.key(enrollment.journeyId, enrollment.profileId);
    const current = this.items.get(key);
    const ok = expectedPrevious === undefined ? current === undefined : current?.executionName === expectedPrevious;
    this.calls.push({ op: 'replace', enrollment: { ...enrollment }, expectedPrevious, ok });
    if (ok) this.items.set(key, { ...enrollment });
    return ok;
  }

  async recordRun(enrollment: Enrollment, expiresAt: number): Promise<void> {
    this.calls.push({ op: 'recordRun', enrollment: { ...enrollment }, expiresAt });
    this.runs.push({ enrollment: { ...enrollment }, expiresAt });
  }
}

export interface FakeExecution {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  input: ExecutionInput;
  status: 'RUNNING' | 'SUCCEEDED' | 'ABORTED';
}

/** Step Functions: one execution per name and state machine, tokens that resume once. */
export class FakeExecutions implements Executions {
  readonly executions = new Map<string, FakeExecution>();
  /** Task tokens a test made resumable; a token not here (or already used) is gone. */
  private readonly waiting = new Set<string>();
  /** Successful resumes; `resumeCalls` counts every call, gone or not. */
  readonly resumes: { token: string; output: unknown }[] = [];
  resumeCalls = 0;
  /** Runs once, just before the next `start` creates its execution (to interleave a concurrent entry). */
  beforeStart?: () => Promise<void>;

  async start(stateMachineArn: string, name: string, input: ExecutionInput): Promise<{ executionArn: string; started: boolean }> {
    const hook = this.beforeStart;
    this.beforeStart = undefined;
    await hook?.();
    // As on AWS: a run started on an alias or a version is named under the state machine.
    const executionArn = executionArnOf(stateMachineArn, name);
    if (this.executions.has(executionArn)) return { executionArn, started: false };
    this.executions.set(executionArn, { executionArn, stateMachineArn, name, input: structuredClone(input), status: 'RUNNING' });
    return { executionArn, started: true };
  }

  async isRunning(executionArn: string): Promise<boolean> {
    return this.executions.get(executionArn)?.status === 'RUNNING';
  }

  async resume(token: string, output: unknown): Promise<'resumed' | 'gone'> {
    this.resumeCalls++;
    if (!this.waiting.delete(token)) return 'gone';
    this.resumes.push({ token, output });
    return 'resumed';
  }

  async stop(executionArn: string): Promise<boolean> {
    const execution = this.executions.get(executionArn);
    if (execution?.status !== 'RUNNING') return false;
    execution.status = 'ABORTED';
    return true;
  }

  /** Ends an execution (it ran to its end). */
  finish(executionArn: string): void {
    const execution = this.executions.get(executionArn);
    if (!execution) throw new Error(`no execution ${executionArn}`);
    execution.status = 'SUCCEEDED';
  }

  awaitToken(token: string): void {
    this.waiting.add(token);
  }

  running(): FakeExecution[] {
    return [...this.executions.values()].filter((e) => e.status === 'RUNNING');
  }
}

export class MemoryWaitIndex implements WaitIndex {
  private readonly items = new Map<string, Map<string, WaitRegistration>>();
  readonly removed: Pick<WaitRegistration, 'key' | 'executionId' | 'nodeId'>[] = [];

  async register(registrations: WaitRegistration[]): Promise<void> {
    for (const r of registrations) {
      const byStep = this.items.get(r.key) ?? new Map<string, WaitRegistration>();
      byStep.set(`${r.executionId}#${r.nodeId}`, { ...r });
      this.items.set(r.key, byStep);
    }
  }

  async find(key: string): Promise<WaitRegistration[]> {
    return [...(this.items.get(key)?.values() ?? [])].map((r) => ({ ...r }));
  }

  async remove(r: Pick<WaitRegistration, 'key' | 'executionId' | 'nodeId'>): Promise<void> {
    this.removed.push({ key: r.key, executionId: r.executionId, nodeId: r.nodeId });
    this.items.get(r.key)?.delete(`${r.executionId}#${r.nodeId}`);
  }

  keys(): string[] {
    return [...this.items.entries()].filter(([, byStep]) => byStep.size > 0).map(([key]) => key);
  }
}

/** The send ledger with DynamoLedger.prepare's condition: writes unless the entry's status is sent or suppressed. */
export class MemoryLedger implements Ledger {
  readonly entries = new Map<string, LedgerEntry>();
  readonly prepared: LedgerEntry[] = [];

  async get(executionId: string, nodeId: string): Promise<LedgerEntry | undefined> {
    const entry = this.entries.get(`${executionId}#${nodeId}`);
    return entry && { ...entry };
  }

  async prepare(entry: LedgerEntry): Promise<boolean> {
    const key = `${entry.executionId}#${entry.nodeId}`;
    const current = this.entries.get(key);
    if (current && current.status !== 'prepared' && current.status !== 'failed') return false;
    this.entries.set(key, { ...entry });
    this.prepared.push({ ...entry });
    return true;
  }

  /** What the state machine does after delivery: marks the entry sent or failed. */
  mark(executionId: string, nodeId: string, status: LedgerStatus): void {
    const entry = this.entries.get(`${executionId}#${nodeId}`);
    if (!entry) throw new Error(`no ledger entry ${executionId}#${nodeId}`);
    this.entries.set(`${executionId}#${nodeId}`, { ...entry, status });
  }
}

export class MemoryRejectedEventStore implements RejectedEventStore {
  readonly items: RejectedEvent[] = [];
  async put(rejected: RejectedEvent): Promise<void> {
    this.items.push(structuredClone(rejected));
  }
  async list(limit: number): Promise<RejectedEvent[]> {
    return this.items.slice(-limit).reverse();
  }
}

export class MemoryPublisher implements EventPublisher {
  readonly published: BusinessEvent[] = [];
  async publish(events: BusinessEvent[]): Promise<void> {
    this.published.push(...structuredClone(events));
  }
}

export const STATE_MACHINE_PREFIX = 'arn:aws:states:eu-west-1:123456789012:stateMachine:waymark-';

/** A journey record from a (partial) definition: an event-entry journey of one exit node unless overridden. */
export function journeyRecord(overrides: Record<string, unknown> = {}): JourneyRecord & { journey: Journey } {
  const input = {
    schemaVersion: 1,
    id: 'welcome',
    name: 'Welcome',
    entry: { kind: 'event', event: 'user.signed_up' },
    start: 'done',
    nodes: [{ id: 'done', kind: 'exit' }],
    ...overrides,
  };
  const result = validateJourney(input);
  if (!result.ok) throw new Error(`invalid test journey: ${result.violations.map((v) => `${v.path}: ${v.message}`).join('; ')}`);
  const stateMachineArn = `${STATE_MACHINE_PREFIX}${result.journey.id}`;
  // Registered as a deploy registers it: the `live` alias pointing at version 1.
  return { journey: result.journey, stateMachineArn, version: 'v1', aliasArn: `${stateMachineArn}:${LIVE_ALIAS}`, live: { number: '1', arn: `${stateMachineArn}:1` } };
}

export function businessEvent(overrides: Partial<BusinessEvent> = {}): BusinessEvent {
  return {
    id: 'evt-1',
    type: 'user.signed_up',
    source: 'shop',
    time: '2026-06-01T12:00:00.000Z',
    identities: { email: 'ada@example.com' },
    properties: {},
    ...overrides,
  };
}

/** Every fake, wired together: the deps of routeBusEvent, triggerJourney, enterJourney and the step functions. */
export function runtime(records: JourneyRecord[] = [], clock = new FakeClock()) {
  return {
    clock,
    profiles: new MemoryProfileStore(clock),
    journeys: new MemoryJourneyRegistry(records),
    enrollments: new MemoryEnrollmentStore(),
    executions: new FakeExecutions(),
    waits: new MemoryWaitIndex(),
    ledger: new MemoryLedger(),
    rejected: new MemoryRejectedEventStore(),
    publisher: new MemoryPublisher(),
  };
}
