import { StateMachine } from 'aws-local-stepfunctions';
import { UpdateItemCommand, type DynamoDBClient, type UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import { Placeholder, Resource, type AslDefinition, type AslState, type ExecutionInput } from '../core/journey/asl';
import { executionArnOf, LIVE_ALIAS, unqualifiedStateMachineArn, type LiveVersion } from '../core/journey/registry-item';
import { assignmentOfInput } from '../core/measure/assignment';
import { systemClock, type Clock, type ExecutionHistory, type Executions, type RunSummary, type RunTrace } from '../core/runtime/ports';
import { DISTRIBUTED_MAP_RESOURCE, rewriteDistributedMaps, runDistributedMap, type ChildRun } from './distributed-map';
import type { LocalMetrics, Outbox, OutboxMessage } from './outbox';
import { isVirtualClock, type VirtualClock } from './virtual-clock';

export type LocalFunction = (payload: unknown, context: Context) => Promise<unknown>;

export interface LocalExecutionsOptions {
  /** Handlers bound to the function placeholders of the ASL (the same factories the Lambdas use). */
  functions: Partial<Record<Placeholder, LocalFunction>>;
  /** Values for the other placeholders (table names, sender, configuration set, push app). */
  values: Partial<Record<Placeholder, string>>;
  /** Where DynamoDB service-integration states (the send ledger) write: dynalite, or `updateItem` (in-memory stores). */
  dynamo?: DynamoDBClient;
  updateItem?: (input: UpdateItemCommandInput) => Promise<Record<string, unknown>>;
  /** Where Distributed Map states read items (ItemReader) and write results (ResultWriter): s3rver locally. */
  s3?: S3Client;
  outbox: Outbox;
  /** Where the delivery outcome metrics go. */
  metrics: LocalMetrics;
  /** Virtual seconds per real second: 3600 makes an hour pass in a second; Infinity makes waits instant. */
  timeScale: number;
  /**
   * The stack's clock. A VirtualClock runs every journey duration on it (Wait states, wait-for-event timeouts, retry
   * intervals of Task states, the global timeout): time passes only when the clock is told; `timeScale` is then unused.
   */
  clock?: Clock;
  region?: string;
  account?: string;
  /** Called once per ended run, with the event Step Functions puts on the default bus ("Execution Status Change"). */
  onEnd?: (event: RunStatusChangeEvent) => void;
}

/** A "Step Functions Execution Status Change" event as EventBridge delivers it (lambdas/core/measure/run-end.ts). */
export interface RunStatusChangeEvent {
  version: '0';
  id: string;
  'detail-type': 'Step Functions Execution Status Change';
  source: 'aws.states';
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: { executionArn: string; stateMachineArn: string; name: string; status: string; startDate: number; stopDate: number; input: string; error: string | null; cause: string | null };
}

/** The context field the local runner puts its clock's start time in (see `deploy`). */
const LOCAL_START_TIME = 'WaymarkLocalStartTime';

/** A journey as deployed locally: its state machine, its `live` alias and the version the alias points at. */
export interface LocalDeployment {
  stateMachineArn: string;
  aliasArn: string;
  live: LiveVersion;
}

export const EXECUTION_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

export interface ExecutionFilter {
  journeyId?: string;
  profileId?: string;
  status?: ExecutionStatus;
  /** Runs of internal state machines (the audience scan) are listed only when asked for, by this or `journeyId`. */
  internal?: boolean;
}

/** Finished runs of internal state machines kept for inspection; older ones are forgotten (memory stays flat). */
export const RETAINED_INTERNAL_RUNS = 20;

export interface LocalExecution {
  executionArn: string;
  name: string;
  /** The state machine, unqualified; a run started on a version or an alias names them below (as DescribeExecution). */
  stateMachineArn: string;
  /** The version the run started on, and runs to its end on whatever is deployed later. */
  stateMachineVersionArn?: string;
  stateMachineAliasArn?: string;
  journeyId: string;
  profileId: string;
  status: ExecutionStatus;
  startDate: string;
  stopDate?: string;
  input: ExecutionInput;
  output?: unknown;
  error?: string;
  /** State names in the order they were entered. */
  path: string[];
  /** The same, with the (stack clock's) time each state was entered and, once it has, left. */
  trail: { state: string; at: string; exitedAt?: string }[];
  /** Why it was stopped (`stop`'s cause), for an ABORTED run. */
  cause?: string;
  done: Promise<void>;
}

/** What the runtime tracks of a run to tell when it is settled (virtual time): its parked waits and timers. */
interface RunState {
  parked: number;
  ended: boolean;
  timedOut: boolean;
  /** Cancels the virtual timers of the run (its waits, retries, timeout) when it ends. */
  cancels: Set<() => void>;
  /** The tokens of its wait-for-event steps, so its end rejects their waiters without a scan of every run's. */
  tokens: Set<string>;
}

/** Node timers cannot run longer than 2^31-1 ms; longer task timeouts are capped locally. */
const MAX_TIMER_SECONDS = 2_000_000;

/**
 * The least real time a run gets locally. Scaled time counts compute time too: at 3600 a 5-day journey would have
 * 120 real seconds, at Infinity none, and a busy machine timed runs out that were merely queued.
 */
export const MIN_REAL_RUN_SECONDS = 600;

/**
 * The timeouts of a definition as the local runner applies them: the global timeout on the scaled clock, never under
 * MIN_REAL_RUN_SECONDS; task timeouts unscaled, since a step's work takes real time (a wait-for-event's timeout is a
 * journey duration: its binding scales it). A task without one has none, as on AWS (not the runner's 60 s).
 */
export function localTimeouts(definition: AslDefinition, timeScale: number): AslDefinition {
  const scaled = Math.ceil(definition.TimeoutSeconds / timeScale);
  definition.TimeoutSeconds = Math.min(MAX_TIMER_SECONDS, Math.max(MIN_REAL_RUN_SECONDS, Number.isFinite(scaled) ? scaled : 0));
  for (const { state } of eachState(definition)) {
    // No TimeoutSeconds means no task timeout on AWS (docs.aws.amazon.com/step-functions/latest/dg/sfn-stuck-execution.html).
    if (state.Type === 'Task') state.TimeoutSeconds = Math.min(MAX_TIMER_SECONDS, typeof state.TimeoutSeconds === 'number' ? state.TimeoutSeconds : MAX_TIMER_SECONDS);
  }
  return definition;
}

/**
 * Every state of a definition, nested ones (Map item processors, Parallel branches) included, each with the `States`
 * record and the definition it is in. A state is yielded before the states nested in it.
 */
function* eachState(definition: AslDefinition): Generator<{ name: string; state: AslState; states: Record<string, AslState>; scope: AslDefinition }> {
  for (const [name, state] of Object.entries(definition.States)) {
    yield { name, state, states: definition.States, scope: definition };
    const processor = (state.ItemProcessor ?? state.Iterator) as AslDefinition | undefined;
    if (processor?.States) yield* eachState(processor);
    for (const branch of (state.Branches as AslDefinition[] | undefined) ?? []) yield* eachState(branch);
  }
}

/**
 * The real milliseconds of each fixed-duration Wait state at `timeScale`, by state name, nested states included (a
 * campaign's waits are inside its `Run` Parallel): overrides are keyed by name.
 */
export function fixedWaitTimes(definition: AslDefinition, timeScale: number): Map<string, number> {
  const fixed = new Map<string, number>();
  for (const { name, state } of eachState(definition)) {
    if (state.Type === 'Wait' && typeof state.Seconds === 'number') fixed.set(name, Math.max(0, Math.round((state.Seconds * 1000) / timeScale)));
  }
  return fixed;
}

/**
 * Lambda's longest timeout (docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html: 900 s). Locally every step
 * shares one process and one dynalite, so a step waits for the others: it gets the most a Lambda can have, never scaled.
 */
export const LOCAL_LAMBDA_TIMEOUT_MS = 900_000;

/** The context a local Lambda step gets: middy aborts the handler when `getRemainingTimeInMillis` runs out. */
export function localLambdaContext(name: string, requestId: string, where: { region: string; account: string }, now: () => number = Date.now): Context {
  const deadline = now() + LOCAL_LAMBDA_TIMEOUT_MS;
  return {
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${where.region}:${where.account}:function:${name}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => Math.max(0, deadline - now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

class TaskTimedOut extends Error {
  override readonly name = 'States.Timeout';
}

interface Waiter {
  resolve: (output: unknown) => void;
  reject: (error: Error) => void;
  executionArn: string;
  stateName: string;
  /** True once the register-wait step has written the index: from then on an event can resume it. */
  registered: boolean;
}

/** A Retry entry of a state (docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html). */
interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
}

/** The resource a Wait state becomes in virtual time: a task the runtime binds to a virtual timer. */
export const VIRTUAL_WAIT_RESOURCE = 'waymark:local:wait';

/**
 * The definition as the runtime runs it in virtual time: Wait states become tasks bound to virtual timers, Task states
 * lose their Retry (the runtime retries them on the virtual clock; the retriers go to `retries` by state name), task
 * timeouts are lifted (a step's compute takes no virtual time; wait-for-event timeouts are virtual timers), and the
 * global timeout is left to a virtual timer.
 */
export function virtualDefinition(definition: AslDefinition, retries: Map<string, Retrier[]>, timeouts: Map<string, number>): AslDefinition {
  for (const { name, state, states } of eachState(definition)) {
    if (state.Type === 'Wait') {
      const { Type: _t, Seconds, SecondsPath, Timestamp, TimestampPath, ...rest } = state;
      // No real task timeout (the runner's default is 60 real seconds): the wait's end is a virtual timer.
      states[name] = {
        ...rest,
        Type: 'Task',
        Resource: VIRTUAL_WAIT_RESOURCE,
        TimeoutSeconds: MAX_TIMER_SECONDS,
        Comment: JSON.stringify({ Seconds, SecondsPath, Timestamp, TimestampPath }),
      };
    } else if (state.Type === 'Task') {
      if (Array.isArray(state.Retry)) retries.set(name, state.Retry as Retrier[]);
      delete state.Retry;
      if (typeof state.TimeoutSeconds === 'number') timeouts.set(name, state.TimeoutSeconds);
      state.TimeoutSeconds = MAX_TIMER_SECONDS;
    }
  }
  delete (definition as Partial<AslDefinition>).TimeoutSeconds;
  return definition;
}

/** Every state's retry intervals set to 0 (the retriers of non-Task states, which run at once in virtual time). */
function zeroIntervals(definition: AslDefinition): Record<string, number> {
  const out: Record<string, number> = {};
  for (const { name, state } of eachState(definition)) if (state.Retry) out[name] = 0;
  return out;
}

/** Every Task state by name, with the definition it is in: overrides are keyed by state name, nested states included. */
function taskStates(definition: AslDefinition): { stateName: string; state: AslState; scope: AslDefinition }[] {
  return [...eachState(definition)].filter(({ state }) => state.Type === 'Task').map(({ name, state, scope }) => ({ stateName: name, state, scope }));
}

/** A reference path (`$.steps.x.until`) read from a state's input; undefined when any part is missing. */
function readPath(input: unknown, path: string): unknown {
  if (path === '$') return input;
  let value: unknown = input;
  for (const part of path.replace(/^\$\./, '').split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** When a Wait state (its fields as `virtualDefinition` kept them) entered at `now` with `input` ends, in ms. */
export function waitEnd(fields: { Seconds?: number; SecondsPath?: string; Timestamp?: string; TimestampPath?: string }, input: unknown, now: number): number {
  if (typeof fields.Seconds === 'number') return now + fields.Seconds * 1000;
  if (fields.SecondsPath) {
    const seconds = readPath(input, fields.SecondsPath);
    if (typeof seconds !== 'number' || !(seconds >= 0)) throw Object.assign(new Error(`${fields.SecondsPath} is not a number of seconds`), { name: 'States.Runtime' });
    return now + seconds * 1000;
  }
  const timestamp = fields.Timestamp ?? readPath(input, fields.TimestampPath ?? '');
  const at = typeof timestamp === 'string' ? Date.parse(timestamp) : NaN;
  if (!Number.isFinite(at)) throw Object.assign(new Error(`${fields.TimestampPath ?? 'Timestamp'} is not a timestamp`), { name: 'States.Runtime' });
  return at;
}

/** The retrier of an error, as Step Functions picks it: the first whose ErrorEquals names it (or States.ALL / TaskFailed). */
function retrierFor(retriers: Retrier[], error: unknown): number {
  const name = error instanceof Error ? error.name : '';
  return retriers.findIndex((r) =>
    r.ErrorEquals.some((e) => e === name || e === 'States.ALL' || (e === 'States.TaskFailed' && name !== 'States.Timeout')),
  );
}

/** Step Functions, locally: runs the compiled ASL of each journey with aws-local-stepfunctions. */
export class LocalExecutions implements Executions, ExecutionHistory {
  private readonly machines = new Map<
    string,
    {
      definition: AslDefinition;
      journeyId: string;
      machine: StateMachine;
      internal: boolean;
      timeoutSeconds: number;
      retries: Map<string, Retrier[]>;
      timeouts: Map<string, number>;
      /** Every Task state with the definition it belongs to (nested ones included), and the retry intervals: per machine. */
      tasks: { stateName: string; state: AslState; scope: AslDefinition }[];
      retryIntervals: Record<string, number | number[]>;
      /** Its Distributed Map states (as deployed) and the ARN their children run on (distributed-map.ts). */
      distributed: Map<string, { state: AslState; childArn: string }>;
      /** A Distributed Map's item processor: its runs are that Map's children (no run-end event of their own). */
      child: boolean;
      /** The definition as deployed (placeholders filled in), as DescribeStateMachine answers it. */
      deployedText: string;
    }
  >();
  /** Each deploy's number: a Distributed Map's processor is installed under it, so runs in flight keep theirs. */
  private deploys = 0;
  private mapRuns = 0;
  /** Published versions per state machine (with the definition each was published from), and alias → version ARN. */
  private readonly versions = new Map<string, { live: LiveVersion; text: string }[]>();
  private readonly aliases = new Map<string, string>();
  private readonly executions = new Map<string, LocalExecution & { abort?: () => void; run?: RunState }>();
  private readonly waiters = new Map<string, Waiter>();
  private readonly region: string;
  private readonly account: string;
  private tokenCounter = 0;
  private readonly clock: Clock;
  /** Set when the clock is virtual: every journey duration is a timer on it. */
  private readonly virtual?: VirtualClock;
  /** Settledness, kept incrementally: task handlers at work, and running runs with nothing parked. */
  private busyHandlers = 0;
  private unparkedRuns = 0;
  private quietWaiters: (() => void)[] = [];

  constructor(private readonly options: LocalExecutionsOptions) {
    this.region = options.region ?? 'local';
    this.account = options.account ?? '000000000000';
    this.clock = options.clock ?? systemClock;
    if (isVirtualClock(this.clock)) this.virtual = this.clock;
  }

  /**
   * True when no task handler is at work and every running run is parked (on a wait, a task token or a retry interval):
   * in virtual time nothing more happens until the clock moves or an event comes. Between two states a run is neither;
   * the caller lets pending callbacks run (a `setImmediate` turn) and asks again.
   */
  quiet(): boolean {
    return this.busyHandlers === 0 && this.unparkedRuns === 0;
  }

  /** Resolves the next time the runs become quiet (at once if they are). */
  whenQuiet(): Promise<void> {
    if (this.quiet()) return Promise.resolve();
    return new Promise((resolve) => this.quietWaiters.push(resolve));
  }

  private notifyQuiet(): void {
    if (!this.quiet() || this.quietWaiters.length === 0) return;
    const waiters = this.quietWaiters;
    this.quietWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private park(run: RunState | undefined): void {
    if (!run || run.ended) return;
    if (run.parked++ === 0) this.unparkedRuns--;
    this.notifyQuiet();
  }

  private unpark(run: RunState | undefined): void {
    if (!run || run.ended) return;
    if (--run.parked === 0) this.unparkedRuns++;
  }

  /** Counts a task handler at work for as long as `work` runs (parked stretches excepted, see `parked`). */
  private async busy<T>(work: () => Promise<T>): Promise<T> {
    this.busyHandlers++;
    try {
      return await work();
    } finally {
      this.busyHandlers--;
      this.notifyQuiet();
    }
  }

  /** Inside `busy`: the handler is parked (not at work) until `until` settles. */
  private async parked<T>(run: RunState | undefined, until: Promise<T>): Promise<T> {
    this.busyHandlers--;
    this.park(run);
    try {
      return await until;
    } finally {
      this.unpark(run);
      this.busyHandlers++;
    }
  }

  /**
   * A virtual timer of a run. When the run ends first, the timer is cancelled and `onEnd` runs (a sleep rejects, so the
   * step that waited settles and the runner's real task timer is cleared). The returned function cancels it.
   */
  private runTimer(run: RunState | undefined, at: number, fire: () => void, onEnd?: () => void): () => void {
    const end = () => {
      cancel();
      onEnd?.();
    };
    const cancel = this.virtual!.schedule(at, () => {
      run?.cancels.delete(end);
      fire();
    });
    run?.cancels.add(end);
    return () => {
      run?.cancels.delete(end);
      cancel();
    };
  }

  /** Resolves after `ms` of virtual time on the run's behalf (at once when 0 or less); rejects if the run ends first. */
  private runSleep(run: RunState | undefined, ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.runTimer(run, this.virtual!.nowMs() + ms, resolve, () => reject(new Error('the execution ended')));
    return promise;
  }

  stateMachineArn(journeyId: string): string {
    return `arn:aws:states:${this.region}:${this.account}:stateMachine:waymark-local-${journeyId}`;
  }

  /**
   * Registers a journey's compiled ASL, with its placeholders filled in, as a local state machine. An `internal` one
   * (the audience scan) is left out of listings unless asked for, and only its last runs are kept.
   */
  deploy(journeyId: string, asl: AslDefinition, options: { internal?: boolean } = {}): string {
    const arn = this.stateMachineArn(journeyId);
    const text = JSON.stringify(asl).replace(/\$\{(\w+)\}/g, (whole, name: Placeholder) => {
      if (name in this.options.functions) return `arn:aws:lambda:${this.region}:${this.account}:function:${name}`;
      const value = this.options.values[name];
      if (value === undefined) throw new Error(`no local value for placeholder ${whole} in journey ${journeyId}`);
      return value;
    });
    // aws-local-stepfunctions stamps $$.Execution.StartTime with the real clock, over any given: the runner reads the
    // stack clock's start time from a context field of its own instead (the counters bucket by it).
    const parsed = JSON.parse(text.replaceAll('$$.Execution.StartTime', () => `$$.Execution.${LOCAL_START_TIME}`)) as AslDefinition;
    this.install(arn, journeyId, parsed, { internal: options.internal === true, child: false, deployedText: text });
    return arn;
  }

  /** The definition a state machine was deployed with (placeholders filled in), as DescribeStateMachine answers it. */
  describeStateMachine(arn: string): { stateMachineArn: string; definition: string } | undefined {
    const deployed = this.machines.get(arn);
    return deployed && { stateMachineArn: unqualifiedStateMachineArn(arn), definition: deployed.deployedText };
  }

  /**
   * Registers the runner's copy of a definition under `arn`. Its Distributed Maps become tasks (distributed-map.ts);
   * each one's ItemProcessor is installed as a state machine of its own, `<arn>/<state>:<deploy>`, its children's.
   */
  private install(
    arn: string,
    journeyId: string,
    parsed: AslDefinition,
    options: { internal: boolean; child: boolean; deployedText: string },
  ): void {
    const deploy = ++this.deploys;
    const distributed = new Map<string, { state: AslState; childArn: string }>();
    for (const [stateName, state] of rewriteDistributedMaps(parsed)) {
      // A JSON copy, not structuredClone: the runner treats only objects of its own realm as payload templates.
      const processor = JSON.parse(JSON.stringify(state.ItemProcessor)) as AslDefinition & { ProcessorConfig?: unknown };
      delete processor.ProcessorConfig;
      // A child run may last as long as its parent (Standard children: up to a year on AWS).
      if (parsed.TimeoutSeconds !== undefined) processor.TimeoutSeconds = parsed.TimeoutSeconds;
      const childArn = `${unqualifiedStateMachineArn(arn)}/${stateName}:${deploy}`;
      const deployedText = JSON.stringify(state.ItemProcessor);
      this.install(childArn, journeyId, processor, { internal: true, child: true, deployedText });
      distributed.set(stateName, { state, childArn });
    }
    const timeoutSeconds = parsed.TimeoutSeconds;
    const retries = new Map<string, Retrier[]>();
    const timeouts = new Map<string, number>();
    const definition = this.virtual ? virtualDefinition(parsed, retries, timeouts) : localTimeouts(parsed, this.options.timeScale);
    const machine = new StateMachine(definition as never, { validationOptions: { checkArn: false, checkPaths: false } });
    // In virtual time Task retries are the handlers' (withRetries); a Parallel's retries are immediate.
    const retryIntervals = this.virtual ? zeroIntervals(definition) : this.retryIntervals(definition);
    const tasks = taskStates(definition);
    this.machines.set(arn, {
      definition,
      journeyId,
      machine,
      internal: options.internal,
      timeoutSeconds,
      retries,
      timeouts,
      tasks,
      retryIntervals,
      distributed,
      child: options.child,
      deployedText: options.deployedText,
    });
  }

  /**
   * Deploys a journey as a CDK deploy does: the new definition becomes the state machine's latest revision and, when it
   * differs from the version the `live` alias points at, a new version is published and the alias moved to it. Runs in
   * flight keep the version they started on. Redeploying an earlier definition publishes it again (a new number).
   */
  deployJourney(journeyId: string, asl: AslDefinition): LocalDeployment {
    const stateMachineArn = this.deploy(journeyId, asl);
    const aliasArn = `${stateMachineArn}:${LIVE_ALIAS}`;
    const text = JSON.stringify(asl);
    const versions = this.versions.get(stateMachineArn) ?? [];
    const current = versions.find((v) => v.live.arn === this.aliases.get(aliasArn));
    if (current?.text === text) return { stateMachineArn, aliasArn, live: { ...current.live } };
    const number = String(versions.length + 1);
    const publishedAt = this.clock.now().toISOString();
    const live: LiveVersion = { number, arn: `${stateMachineArn}:${number}`, publishedAt };
    this.machines.set(live.arn, this.machines.get(stateMachineArn)!);
    this.versions.set(stateMachineArn, [...versions, { live, text }]);
    this.aliases.set(aliasArn, live.arn);
    return { stateMachineArn, aliasArn, live: { ...live } };
  }

  /** The published versions of a journey's state machine, oldest first. */
  versionsOf(journeyId: string): LiveVersion[] {
    return (this.versions.get(this.stateMachineArn(journeyId)) ?? []).map((v) => ({ ...v.live }));
  }

  /** When a published version was published (the stack clock's time of its deploy). */
  async publishedAt(versionArn: string): Promise<string | undefined> {
    const versions = this.versions.get(unqualifiedStateMachineArn(versionArn)) ?? [];
    return versions.find((v) => v.live.arn === versionArn)?.live.publishedAt;
  }

  /** What a start on `arn` runs: the state machine's latest revision, a version, or the version an alias points at. */
  private resolve(arn: string): { stateMachineArn: string; versionArn?: string; aliasArn?: string } {
    const stateMachineArn = unqualifiedStateMachineArn(arn);
    if (arn === stateMachineArn) return { stateMachineArn };
    const aliased = this.aliases.get(arn);
    if (aliased === undefined) return { stateMachineArn, versionArn: arn };
    return { stateMachineArn, versionArn: aliased, aliasArn: arn };
  }

  /** Every run matching the filter, oldest first (internal runs included unless `internal: false`). */
  list(filter: ExecutionFilter = {}): LocalExecution[] {
    return [...this.matching(filter)].map(({ abort: _abort, ...rest }) => rest);
  }

  /**
   * One page of runs, oldest first: `after` is the ARN of the last run of the previous page. Internal runs are left out
   * unless `internal` is set or `journeyId` names their machine. Undefined when `after` is no run held here.
   */
  page(filter: ExecutionFilter, limit: number, after?: string): { executions: LocalExecution[]; next?: string } | undefined {
    if (after !== undefined && !this.executions.has(after)) return undefined;
    const internal = filter.internal ?? filter.journeyId !== undefined;
    const executions: LocalExecution[] = [];
    let skipping = after !== undefined;
    for (const e of this.matching({ ...filter, internal })) {
      if (skipping) {
        skipping = e.executionArn !== after;
        continue;
      }
      if (executions.length === limit) return { executions, next: executions[limit - 1].executionArn };
      const { abort: _abort, ...rest } = e;
      executions.push(rest);
    }
    return { executions };
  }

  private *matching(filter: ExecutionFilter): Generator<LocalExecution & { abort?: () => void }> {
    for (const e of this.executions.values()) {
      if (filter.journeyId !== undefined && e.journeyId !== filter.journeyId) continue;
      if (filter.profileId !== undefined && e.profileId !== filter.profileId) continue;
      if (filter.status !== undefined && e.status !== filter.status) continue;
      if (filter.internal === false && this.machines.get(e.stateMachineArn)?.internal) continue;
      yield e;
    }
  }

  /** Forgets the oldest finished runs of an internal machine beyond RETAINED_INTERNAL_RUNS. */
  private forgetOldRuns(stateMachineArn: string): void {
    const finished = [...this.executions.values()].filter((e) => e.stateMachineArn === stateMachineArn && e.status !== 'RUNNING');
    for (const e of finished.slice(0, Math.max(0, finished.length - RETAINED_INTERNAL_RUNS))) {
      this.executions.delete(e.executionArn);
    }
  }

  get(executionArn: string): LocalExecution | undefined {
    return this.executions.get(executionArn);
  }

  /** Executions that are parked on a task token (waiting for an event). */
  waitingCount(): number {
    return this.waiters.size;
  }

  /** The wait-for-event states an execution is parked on, once their registration is written. */
  parkedAt(executionArn: string): string[] {
    return [...this.waiters.values()].filter((w) => w.executionArn === executionArn && w.registered).map((w) => w.stateName);
  }

  async start(arn: string, name: string, input: ExecutionInput): Promise<{ executionArn: string; started: boolean }> {
    // Started on an alias or a version, a run is named under the state machine, as on AWS.
    const executionArn = executionArnOf(arn, name);
    if (this.executions.has(executionArn)) return { executionArn, started: false };
    const { stateMachineArn, versionArn, aliasArn } = this.resolve(arn);
    const deployed = this.machines.get(versionArn ?? stateMachineArn);
    if (!deployed) {
      throw Object.assign(new Error(`State machine does not exist: ${arn}`), { name: 'StateMachineDoesNotExist' });
    }
    const startDate = this.clock.now().toISOString();
    const runState: RunState = { parked: 0, ended: false, timedOut: false, cancels: new Set(), tokens: new Set() };
    const record: LocalExecution & { abort?: () => void; run?: RunState } = {
      executionArn,
      name,
      stateMachineArn,
      ...(versionArn === undefined ? {} : { stateMachineVersionArn: versionArn }),
      ...(aliasArn === undefined ? {} : { stateMachineAliasArn: aliasArn }),
      journeyId: deployed.journeyId,
      profileId: input.profileId,
      status: 'RUNNING',
      startDate,
      input,
      path: [],
      trail: [],
      done: Promise.resolve(),
      run: runState,
    };
    this.executions.set(executionArn, record);
    this.unparkedRuns++;
    const untilWaits = new Map<string, string>();
    const handlers = this.bindTasks(deployed.tasks, record, untilWaits);
    if (this.virtual) {
      for (const [stateName, retriers] of deployed.retries) {
        const handler = handlers[stateName];
        if (handler) handlers[stateName] = (params) => this.withRetries(runState, retriers, () => handler(params));
      }
    }
    const run = deployed.machine.run(input as never, {
      overrides: {
        taskResourceLocalHandlers: handlers as never,
        waitTimeOverrides: this.virtual ? {} : this.waitTimes(deployed.definition, untilWaits),
        retryIntervalOverrides: deployed.retryIntervals,
      },
      context: {
        Execution: { Id: executionArn, Name: name, Input: input, StartTime: startDate, [LOCAL_START_TIME]: startDate, RoleArn: `arn:aws:iam::${this.account}:role/local` },
        StateMachine: { Id: stateMachineArn, Name: stateMachineArn.split(':').pop() },
        Task: { Token: 'bound-per-state' },
      } as never,
    });
    record.abort = run.abort;
    // The global timeout as a virtual timer: it aborts the run, which then ends TIMED_OUT as on AWS.
    if (this.virtual && deployed.timeoutSeconds > 0) {
      this.runTimer(runState, this.virtual.nowMs() + deployed.timeoutSeconds * 1000, () => {
        runState.timedOut = true;
        run.abort();
      });
    }
    void this.trackPath(run.eventLogs as AsyncGenerator<{ type: string; state?: { name: string } }>, record);
    record.done = run.result.then(
      (output) => {
        record.status = 'SUCCEEDED';
        record.output = output;
      },
      (error: Error) => {
        if (runState.timedOut) {
          record.status = 'TIMED_OUT';
          record.error = 'ExecutionTimeoutError: Execution timed out';
          return;
        }
        record.status = error.name === 'ExecutionAbortedError' ? 'ABORTED' : error.name === 'ExecutionTimeoutError' ? 'TIMED_OUT' : 'FAILED';
        record.error = `${error.name}: ${error.message}`;
        // The state's own error (ExecutionError wraps it), which a Distributed Map's results report.
        const cause = error.cause;
        if (cause instanceof Error) {
          (record as { failure?: { error: string; cause: string } }).failure = { error: cause.name, cause: cause.message };
        }
      },
    ).finally(() => {
      record.stopDate = this.clock.now().toISOString();
      for (const cancel of runState.cancels) cancel();
      runState.cancels.clear();
      if (runState.parked === 0) this.unparkedRuns--;
      runState.ended = true;
      for (const token of runState.tokens) {
        const waiter = this.waiters.get(token);
        if (!waiter) continue;
        this.waiters.delete(token);
        waiter.reject(new Error('the execution ended'));
      }
      runState.tokens.clear();
      if (deployed.internal) this.forgetOldRuns(stateMachineArn);
      if (!deployed.child) this.options.onEnd?.(this.statusChange(record));
      this.notifyQuiet();
    });
    return { executionArn, started: true };
  }

  private statusChange(record: LocalExecution): RunStatusChangeEvent {
    const [error, ...cause] = (record.error ?? '').split(': ');
    return {
      version: '0',
      id: `${record.executionArn}#${record.status}`,
      'detail-type': 'Step Functions Execution Status Change',
      source: 'aws.states',
      account: this.account,
      time: record.stopDate!,
      region: this.region,
      resources: [record.executionArn],
      detail: {
        executionArn: record.executionArn,
        stateMachineArn: record.stateMachineArn,
        name: record.name,
        status: record.status,
        startDate: Date.parse(record.startDate),
        stopDate: Date.parse(record.stopDate!),
        input: JSON.stringify(record.input),
        error: record.error ? error : null,
        cause: record.error ? cause.join(': ') : null,
      },
    };
  }

  async isRunning(executionArn: string): Promise<boolean> {
    return this.executions.get(executionArn)?.status === 'RUNNING';
  }

  /** DescribeExecution, locally: a stopped run's `cause` is the one `stop` was given, as on AWS. */
  async describe(executionArn: string): Promise<RunSummary | undefined> {
    const e = this.executions.get(executionArn);
    if (!e) return undefined;
    const [error, ...message] = (e.error ?? '').split(': ');
    return {
      executionArn,
      status: e.status,
      startedAt: e.startDate,
      ...(e.stopDate ? { stoppedAt: e.stopDate } : {}),
      ...(e.status === 'FAILED' && error ? { error, cause: message.join(': ') } : {}),
      ...(e.status === 'ABORTED' ? { error: 'Waymark.Stopped', ...(e.cause ? { cause: e.cause } : {}) } : {}),
    };
  }

  /** GetExecutionHistory, locally: the run's trail (states entered and left on the stack's clock), bounded likewise. */
  async trace(executionArn: string, options: { maxEvents: number }): Promise<RunTrace | undefined> {
    const summary = await this.describe(executionArn);
    const e = this.executions.get(executionArn);
    if (!summary || !e) return undefined;
    // Two events a state (entered, exited), as the history counts them.
    const states = e.trail.slice(0, Math.floor(options.maxEvents / 2)).map((t) => ({ state: t.state, enteredAt: t.at, ...(t.exitedAt ? { exitedAt: t.exitedAt } : {}) }));
    // What it was assigned at entry, from its start input, as DescribeExecution's `input` gives it on AWS.
    const assignment = assignmentOfInput(e.input);
    return { ...summary, states, truncated: states.length < e.trail.length, ...(assignment ? { assignment } : {}) };
  }

  async resume(token: string, output: unknown): Promise<'resumed' | 'gone'> {
    const waiter = this.waiters.get(token);
    if (!waiter) return 'gone';
    this.waiters.delete(token);
    waiter.resolve(output);
    return 'resumed';
  }

  async stop(executionArn: string, cause = 'stopped'): Promise<boolean> {
    const execution = this.executions.get(executionArn);
    if (!execution || execution.status !== 'RUNNING') return false;
    execution.cause = cause;
    execution.abort?.();
    await execution.done;
    // The run's history says why it ended (`preempted`, erasure), as StopExecution's cause does on AWS.
    execution.error = `Waymark.Stopped: ${cause}`;
    return true;
  }

  private async trackPath(logs: AsyncGenerator<{ type: string; state?: { name: string } }>, record: LocalExecution): Promise<void> {
    try {
      for await (const event of logs) {
        if (event.type === 'StateEntered' && event.state) {
          record.path.push(event.state.name);
          record.trail.push({ state: event.state.name, at: this.clock.now().toISOString() });
        } else if (event.type === 'StateExited' && event.state) {
          const name = event.state.name;
          const visit = record.trail.findLast((t) => t.state === name && t.exitedAt === undefined);
          if (visit) visit.exitedAt = this.clock.now().toISOString();
        }
      }
    } catch {
      // The log ends with the execution; its errors are reported through `done`.
    }
  }

  private scaledMs(seconds: number): number {
    return Math.max(0, Math.round((seconds * 1000) / this.options.timeScale));
  }

  private waitTimes(definition: AslDefinition, untilWaits: Map<string, string>): Record<string, number> {
    const fixed = fixedWaitTimes(definition, this.options.timeScale);
    // Read when the Wait state starts: until-waits know their end only once the resolve step has run.
    return new Proxy({} as Record<string, number>, {
      get: (_target, name: string) => {
        if (fixed.has(name)) return fixed.get(name);
        const until = untilWaits.get(name);
        if (until === undefined) return undefined;
        return this.scaledMs(Math.max(0, (Date.parse(until) - Date.now()) / 1000));
      },
    });
  }

  private retryIntervals(definition: AslDefinition): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    for (const [name, state] of Object.entries(definition.States)) {
      const retry = state.Retry as { IntervalSeconds?: number }[] | undefined;
      if (retry) out[name] = retry.map((r) => this.scaledMs(r.IntervalSeconds ?? 1));
    }
    return out;
  }

  /**
   * A Task's retries in virtual time: the interval is IntervalSeconds x BackoffRate^attempt, capped by MaxDelaySeconds,
   * waited on the virtual clock (no jitter: runs are deterministic). Defaults as Step Functions': 1 s, 3 attempts, 2.0.
   */
  private async withRetries(run: RunState, retriers: Retrier[], call: () => Promise<unknown>): Promise<unknown> {
    const attempts = retriers.map(() => 0);
    for (;;) {
      try {
        return await call();
      } catch (error) {
        const i = retrierFor(retriers, error);
        if (i < 0 || run.ended) throw error;
        const r = retriers[i];
        if (attempts[i] >= (r.MaxAttempts ?? 3)) throw error;
        const seconds = Math.min((r.IntervalSeconds ?? 1) * (r.BackoffRate ?? 2) ** attempts[i], r.MaxDelaySeconds ?? Infinity);
        attempts[i]++;
        await this.busy(() => this.parked(run, this.runSleep(run, seconds * 1000)));
      }
    }
  }

  private lambdaContext(name: string): Context {
    return localLambdaContext(name, `local-${++this.tokenCounter}`, { region: this.region, account: this.account });
  }

  private functionFor(functionName: unknown): { name: Placeholder; fn: LocalFunction } {
    const name = String(functionName).split(':').pop() as Placeholder;
    const fn = this.options.functions[name];
    if (!fn) throw new Error(`no local function bound for ${String(functionName)}`);
    return { name, fn };
  }

  /** Binds every Task state, by name, to local code chosen by its Resource. */
  private bindTasks(
    tasks: { stateName: string; state: AslState; scope: AslDefinition }[],
    record: LocalExecution,
    untilWaits: Map<string, string>,
  ): Record<string, (input: unknown) => Promise<unknown>> {
    const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const { stateName, state, scope } of tasks) {
      const handler = this.bindTask(stateName, state, scope, record, untilWaits);
      handlers[stateName] = (input) => this.busy(() => handler(input));
    }
    return handlers;
  }

  private bindTask(
    stateName: string,
    state: AslState,
    definition: AslDefinition,
    record: LocalExecution,
    untilWaits: Map<string, string>,
  ): (input: unknown) => Promise<unknown> {
    const resource = state.Resource as string;
    const nodeId = stateName.split('.')[0];
    const run = (record as { run?: RunState }).run;
    switch (resource) {
      case DISTRIBUTED_MAP_RESOURCE:
        return (input) => this.distributedMap(stateName, input, record);
      case VIRTUAL_WAIT_RESOURCE:
        return async (input) => {
          const end = waitEnd(JSON.parse(state.Comment as string), input, this.virtual!.nowMs());
          await this.parked(run, this.runSleep(run, end - this.virtual!.nowMs()));
          return input;
        };
      case Resource.lambdaInvoke:
        return async (params) => {
          const { FunctionName, Payload } = params as { FunctionName: string; Payload: unknown };
          const { name, fn } = this.functionFor(FunctionName);
          const result = await fn(Payload, this.lambdaContext(name));
          const next = state.Next as string | undefined;
          if (name === Placeholder.resolveWaitFunction && next && definition.States[next]?.Type === 'Wait') {
            untilWaits.set(next, (result as { until: string }).until);
          }
          return { Payload: result, StatusCode: 200, ExecutedVersion: '$LATEST' };
        };
      case Resource.lambdaInvokeWaitForToken:
        return async (params) => {
          const { FunctionName, Payload } = params as { FunctionName: string; Payload: Record<string, unknown> };
          const { name, fn } = this.functionFor(FunctionName);
          const token = `${record.executionArn}#${stateName}#${++this.tokenCounter}`;
          const { promise, resolve, reject } = Promise.withResolvers<unknown>();
          // The timeout may fire while the registration is still being written; the await below reports it.
          promise.catch(() => undefined);
          const waiter: Waiter = { resolve, reject, executionArn: record.executionArn, stateName, registered: false };
          this.waiters.set(token, waiter);
          run?.tokens.add(token);
          const timeoutSeconds = typeof state.TimeoutSeconds === 'number' ? state.TimeoutSeconds : 99_999_999;
          const onTimeout = () => {
            if (this.waiters.delete(token)) reject(new TaskTimedOut('the wait timed out'));
          };
          let clear: () => void;
          if (this.virtual) {
            // The declared TimeoutSeconds (virtualDefinition lifted the library's real-time one).
            const machine = this.machines.get(record.stateMachineVersionArn ?? record.stateMachineArn);
            const declared = machine?.timeouts.get(stateName) ?? timeoutSeconds;
            clear = this.runTimer(run, this.virtual.nowMs() + declared * 1000, onTimeout);
          } else {
            const timer = setTimeout(onTimeout, Math.min(this.scaledMs(timeoutSeconds), 2 ** 31 - 1));
            timer.unref();
            clear = () => clearTimeout(timer);
          }
          try {
            await fn({ ...Payload, token }, this.lambdaContext(name));
            waiter.registered = true;
            // Parked until resumed, timed out or the run ends; an early resume has settled the promise already.
            return await this.parked(run, promise);
          } finally {
            clear();
            this.waiters.delete(token);
            run?.tokens.delete(token);
          }
        };
      case Resource.sesSendEmail:
        return async (params) => {
          const fault = this.fault('email');
          const p = params as {
            Destination: { ToAddresses: string[] };
            Content: { Simple: { Subject: { Data: string }; Body: { Text?: { Data: string }; Html?: { Data: string } }; Headers?: { Name: string; Value: string }[] } };
            EmailTags?: { Name: string; Value: string }[];
          };
          const headers = p.Content.Simple.Headers ?? [];
          const sent = this.options.outbox.add({
            channel: 'email',
            recipient: p.Destination.ToAddresses.join(', '),
            subject: p.Content.Simple.Subject.Data,
            body: p.Content.Simple.Body.Text?.Data ?? '',
            ...(p.Content.Simple.Body.Html ? { html: p.Content.Simple.Body.Html.Data } : {}),
            ...(headers.length > 0 ? { headers: Object.fromEntries(headers.map((h) => [h.Name, h.Value])) } : {}),
            // The message tags SES would publish with the message's events (POST /local/outbox/{messageId}/events).
            ...(p.EmailTags ? { tags: Object.fromEntries(p.EmailTags.map((t) => [t.Name, t.Value])) } : {}),
            ...this.origin(record, nodeId),
          });
          fault.after();
          return { MessageId: sent.messageId };
        };
      case Resource.smsSendTextMessage:
        return async (params) => {
          const fault = this.fault('sms');
          const p = params as { DestinationPhoneNumber: string; MessageBody: string; Context?: Record<string, string> };
          const sent = this.options.outbox.add({
            channel: 'sms',
            recipient: p.DestinationPhoneNumber,
            body: p.MessageBody,
            // The context End User Messaging would return in the message's status events (POST /local/outbox/{messageId}/events).
            ...(p.Context ? { context: { ...p.Context } } : {}),
            ...this.origin(record, nodeId),
          });
          fault.after();
          return { MessageId: sent.messageId };
        };
      case Resource.pinpointSendMessages:
        return async (params) => {
          const fault = this.fault('push');
          const request = (params as { MessageRequest: { Addresses: Record<string, unknown>; MessageConfiguration: Record<string, { Title: string; Body: string; Url?: string }> } }).MessageRequest;
          const message = Object.values(request.MessageConfiguration)[0];
          const status = fault.deliveryStatus ?? 'SUCCESSFUL';
          const sent = this.options.outbox.add({
            channel: 'push',
            recipient: Object.keys(request.Addresses).join(', '),
            subject: message.Title,
            body: message.Body,
            ...(message.Url ? { url: message.Url } : {}),
            ...this.origin(record, nodeId),
          });
          // Kept in the outbox only when it went out; a status per address, as SendMessages answers.
          if (status !== 'SUCCESSFUL' && !fault.sent) this.options.outbox.remove(sent.messageId);
          const result = Object.fromEntries(Object.keys(request.Addresses).map((address) => [address, { DeliveryStatus: status, StatusCode: status === 'SUCCESSFUL' ? 200 : 400, MessageId: sent.messageId }]));
          return { MessageResponse: { ApplicationId: this.options.values[Placeholder.pushApplicationId], RequestId: sent.messageId, Result: result } };
        };
      case Resource.cloudWatchPutMetricData:
        return async (params) => {
          const p = params as { Namespace: string; MetricData: { MetricName: string; Dimensions?: { Name: string; Value: string }[]; Value?: number }[] };
          for (const d of p.MetricData) {
            this.options.metrics.put({ namespace: p.Namespace, name: d.MetricName, dimensions: Object.fromEntries((d.Dimensions ?? []).map((x) => [x.Name, x.Value])), value: d.Value ?? 1 });
          }
          return {};
        };
      case Resource.dynamoUpdateItem:
        return async (params) => {
          if (this.options.updateItem) return this.options.updateItem(params as UpdateItemCommandInput);
          if (!this.options.dynamo) throw new Error('no DynamoDB client or updateItem for the local runtime');
          try {
            const out = await this.options.dynamo.send(new UpdateItemCommand(params as UpdateItemCommandInput));
            return { ...out, $metadata: undefined };
          } catch (error) {
            // The optimized DynamoDB integration raises `DynamoDB.<exception>` (e.g. DynamoDB.ProvisionedThroughputExceededException),
            // which is what the compiled Retry names: https://docs.aws.amazon.com/step-functions/latest/dg/connect-ddb.html
            if (error instanceof Error && !error.name.startsWith('DynamoDB.')) throw Object.assign(error, { name: `DynamoDB.${error.name}` });
            throw error;
          }
        };
      default:
        throw new Error(`state ${stateName} uses ${resource}, which the local stack cannot run`);
    }
  }

  /** Runs a Distributed Map state of a run: its children on the Map's processor, on this executor (distributed-map.ts). */
  private async distributedMap(stateName: string, input: unknown, record: LocalExecution): Promise<unknown> {
    const run = (record as { run?: RunState }).run;
    const deployed = this.machines.get(record.stateMachineVersionArn ?? record.stateMachineArn);
    const binding = deployed?.distributed.get(stateName);
    if (!binding) throw new Error(`no Distributed Map ${stateName} in ${record.stateMachineArn}`);
    const stopChildren = new Set<string>();
    // The parent's end (stop, timeout) stops its children, as it stops a Map Run on AWS.
    const onEnd = () => {
      for (const arn of stopChildren) void this.stop(arn, 'the parent execution ended');
    };
    run?.cancels.add(onEnd);
    const context = {
      Execution: { Id: record.executionArn, Name: record.name, Input: record.input, StartTime: record.startDate },
      StateMachine: { Id: record.stateMachineArn, Name: record.stateMachineArn.split(':').pop() },
      State: { Name: stateName, EnteredTime: this.clock.now().toISOString() },
    };
    try {
      return await runDistributedMap(
        {
          state: binding.state,
          stateName,
          executionArn: record.executionArn,
          stateMachineArn: record.stateMachineArn,
          s3: this.options.s3,
          mapRunId: `00000000-0000-4000-8000-${String(++this.mapRuns).padStart(12, '0')}`,
          ended: () => run?.ended === true,
          parked: (promise) => this.parked(run, promise),
          stopChild: async (arn, cause) => {
            await this.stop(arn, cause);
          },
          runChild: (name, childInput) => {
            const executionArn = executionArnOf(binding.childArn, name);
            stopChildren.add(executionArn);
            const started = this.start(binding.childArn, name, childInput as ExecutionInput);
            // `start` registers the run before it returns: held here, it outlives the internal runs' retention.
            const child = this.executions.get(executionArn);
            const done = started
              .then(() => child!.done)
              .then(
                () => this.childRun(child!),
                (error: Error): ChildRun => ({
                  executionArn,
                  name,
                  stateMachineArn: unqualifiedStateMachineArn(binding.childArn),
                  status: 'FAILED',
                  startDate: this.clock.now().toISOString(),
                  input: childInput,
                  error: error.name,
                  cause: error.message,
                }),
              )
              .finally(() => stopChildren.delete(executionArn));
            return { executionArn, done };
          },
        },
        input,
        context,
      );
    } finally {
      run?.cancels.delete(onEnd);
    }
  }

  private childRun(e: LocalExecution & { failure?: { error: string; cause: string } }): ChildRun {
    const [error, ...cause] = (e.error ?? '').split(': ');
    const failure = e.failure ?? { error: error || e.status, cause: cause.join(': ') };
    return {
      executionArn: e.executionArn,
      name: e.name,
      stateMachineArn: e.stateMachineArn,
      status: e.status,
      startDate: e.startDate,
      ...(e.stopDate ? { stopDate: e.stopDate } : {}),
      input: e.input,
      ...(e.status === 'SUCCEEDED' ? { output: e.output } : failure),
    };
  }

  /**
   * The injected fault of this send, if any: an error before sending raises at once; `sent: true` raises it after the
   * message went out (a timeout or a 5xx after delivery). `after()` is called once the message is in the outbox.
   */
  private fault(channel: OutboxMessage['channel']): { deliveryStatus?: string; sent?: boolean; after: () => void } {
    const fault = this.options.outbox.takeFault(channel);
    const raise = () => {
      throw Object.assign(new Error(`injected fault: ${fault!.error}`), { name: fault!.error });
    };
    if (fault?.error && !fault.sent) raise();
    return { deliveryStatus: fault?.deliveryStatus, sent: fault?.sent, after: () => (fault?.error ? raise() : undefined) };
  }

  private origin(record: LocalExecution, nodeId: string) {
    return { journeyId: record.journeyId, nodeId, profileId: record.profileId, executionId: record.executionArn };
  }
}
