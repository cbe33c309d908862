import { Placeholder, ref, Resource, type AslDefinition, type AslState } from '../journey/asl';
import { aslProblems } from '../journey/asl-check';
import { assertNever } from '../shared/assert-never';
import { parseDuration } from '../shared/duration';
import { isPerMember, splitBranches, stepSuccessors } from './graph';
import type { Campaign, CampaignStep, DeliverStep, SplitStep } from './schema';

/** Options the deployment gives the compiler (the local stack passes the same). */
export interface CampaignCompileOptions {
  /** Members per Distributed Map child (ItemBatcher MaxItemsPerBatch); default 100. */
  batchSize?: number;
}

export const DEFAULT_BATCH_SIZE = 100;
export const MAX_BATCH_SIZE = 1000;
/** Under the 256 KiB of a child execution's input, with room for BatchInput (rows are at most 16 KiB). */
export const MAX_INPUT_BYTES_PER_BATCH = 200_000;
/**
 * MaxConcurrency rule: a child paces its batch over at least PACE_WINDOW_SECONDS (its `paceSeconds` Wait), so
 * `concurrency = ceil(rate × PACE_WINDOW_SECONDS / batchSize)` children together keep to the step's rate, each sending
 * at `rate / concurrency` per second. Capped at MAX_CONCURRENCY (an account's default Lambda concurrency is 1,000).
 */
export const PACE_WINDOW_SECONDS = 10;
export const MAX_CONCURRENCY = 1000;
/** Splits send nothing: their children only assign members, as fast as this many at once allow. */
export const SPLIT_CONCURRENCY = 100;
/** How long a paused batch waits before it asks again whether the run was resumed. */
export const PAUSE_POLL_SECONDS = 10;
/** The error a failed run's execution ends with (the run record holds the cause). */
export const CAMPAIGN_RUN_FAILED = 'CampaignRunFailed';

export function mapConcurrency(rate: number, batchSize: number): number {
  return Math.min(MAX_CONCURRENCY, Math.max(1, Math.ceil((rate * PACE_WINDOW_SECONDS) / batchSize)));
}

/** JSONPath-safe key of a step id: kebab ids have no `_`, so `-` → `_` is one-to-one. */
export const stepKey = (id: string): string => id.replaceAll('-', '_');
/** Where a split branch's set sits in the state: `$.sets.<step>__<branch>` (ids never hold `__`). */
export const setField = (stepId: string, branch: string): string => `${stepKey(stepId)}__${stepKey(branch)}`;

/** State names: tests, the local stack and alarms refer to them. Per-step names are functions of the step id. */
export const CampaignState = {
  start: 'Start',
  startCheck: 'Start.check',
  duplicate: 'Duplicate',
  audience: 'Audience',
  audiencePage: 'Audience.page',
  audienceMore: 'Audience.more',
  audienceNext: 'Audience.next',
  audienceDone: 'Audience.done',
  audienceCompose: 'Audience.compose',
  run: 'Run',
  finish: 'Finish',
  finishFailed: 'Finish.failed',
  failed: 'Failed',
  /**
   * The state named by the step id: its Distributed Map (deliver, enter-journey, split), the dry-run Choice of a wait,
   * or the exit's Succeed. It is also the step's first state, except for a local-time delivery (entryState).
   */
  step: (id: string) => id,
  /** Distributed Map child states. */
  batch: (id: string) => `${id}.batch`,
  result: (id: string) => `${id}.result`,
  hold: (id: string) => `${id}.hold`,
  resume: (id: string) => `${id}.resume`,
  pace: (id: string) => `${id}.pace`,
  cancelled: (id: string) => `${id}.cancelled`,
  /** wait: the Wait state itself (the step's first state is the Choice that skips it in a dry run). */
  wait: (id: string) => `${id}.wait`,
  /** deliver with `at`: group by send time, then loop over the groups. */
  group: (id: string) => `${id}.group`,
  moreGroups: (id: string) => `${id}.more`,
  groupItem: (id: string) => `${id}.item`,
  groupWhen: (id: string) => `${id}.when`,
  groupWait: (id: string) => `${id}.at`,
  nextGroup: (id: string) => `${id}.advance`,
  groupsDone: (id: string) => `${id}.sent`,
  /** split: one compose per continuing branch, then the branches in parallel. */
  compose: (id: string, branch: string) => `${id}.${branch}.set`,
  branches: (id: string) => `${id}.branches`,
} as const;

const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];
const RETRY = [
  { ErrorEquals: LAMBDA_SERVICE_ERRORS, IntervalSeconds: 1, MaxAttempts: 6, BackoffRate: 2, JitterStrategy: 'FULL' },
  // Every action is idempotent (deterministic keys, the ledger), so a failure inside the function is retried too.
  { ErrorEquals: ['States.TaskFailed'], IntervalSeconds: 5, MaxAttempts: 3, BackoffRate: 2, JitterStrategy: 'FULL' },
];

function invoke(payload: Record<string, unknown>): Pick<AslState, 'Resource' | 'Parameters' | 'Retry'> {
  return {
    Resource: Resource.lambdaInvoke,
    Parameters: { FunctionName: ref(Placeholder.campaignStepFunction), Payload: payload },
    Retry: RETRY,
  };
}

/** Where in the state the key of the set a step works on sits. */
type SetPath = string;
const AUDIENCE_SET: SetPath = '$.sets.audience.key';

interface Scope {
  campaign: Campaign;
  batchSize: number;
  states: Record<string, AslState>;
}

/**
 * Compiles a validated campaign into the Standard state machine (JSONPath) that runs one campaign run; the layout is
 * in lambdas/core/campaigns/README.md. Functions and the bucket are placeholders (CDK definitionSubstitutions, the
 * local stack's bindings), so both run this very definition.
 */
export function compileCampaign(campaign: Campaign, options: CampaignCompileOptions = {}): AslDefinition {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
    throw new RangeError(`batchSize must be an integer from 1 to ${MAX_BATCH_SIZE} (got ${batchSize})`);
  }
  const S = CampaignState;
  const runStates: Record<string, AslState> = {};
  compileStep({ campaign, batchSize, states: runStates }, campaign.start, AUDIENCE_SET);
  const runArgs = { 'run.$': '$.run' };
  const definition: AslDefinition = {
    Comment: `Waymark campaign "${campaign.id}": one execution per run`,
    StartAt: S.start,
    TimeoutSeconds: runTimeoutSeconds(campaign),
    States: {
      [S.start]: {
        Type: 'Task',
        ...invoke({
          action: 'start',
          'input.$': '$',
          'executionArn.$': '$$.Execution.Id',
          'startedAt.$': '$$.Execution.StartTime',
        }),
        OutputPath: '$.Payload',
        Next: S.startCheck,
      },
      [S.startCheck]: {
        Type: 'Choice',
        Choices: [{ Variable: '$.duplicate', BooleanEquals: true, Next: S.duplicate }],
        Default: S.audience,
      },
      [S.duplicate]: { Type: 'Succeed', Comment: 'this occurrence already ran' },
      // One child execution per parallel-scan segment, paging through it in its own history (audienceMap).
      [S.audience]: {
        ...audienceMap(),
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: S.finishFailed }],
        Next: S.audienceCompose,
      },
      [S.audienceCompose]: {
        Type: 'Task',
        ...invoke({
          action: 'compose',
          ...runArgs,
          'parts.$': "States.Format('{}parts/audience/', $.run.prefix)",
          'key.$': "States.Format('{}audience.jsonl', $.run.prefix)",
        }),
        ResultSelector: { 'key.$': '$.Payload.key', 'count.$': '$.Payload.count' },
        ResultPath: '$.sets.audience',
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: S.finishFailed }],
        Next: S.run,
      },
      // One branch: a failure anywhere in the steps is caught once, here.
      [S.run]: {
        Type: 'Parallel',
        Branches: [{ StartAt: entryState(campaign, campaign.start), States: runStates }],
        ResultPath: null,
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: S.finishFailed }],
        Next: S.finish,
      },
      [S.finish]: {
        Type: 'Task',
        ...invoke({ action: 'finish', ...runArgs, status: 'succeeded' }),
        ResultPath: null,
        End: true,
      },
      [S.finishFailed]: {
        Type: 'Task',
        ...invoke({ action: 'finish', ...runArgs, status: 'failed', 'error.$': '$.error' }),
        ResultPath: null,
        Next: S.failed,
      },
      [S.failed]: {
        Type: 'Fail',
        Error: CAMPAIGN_RUN_FAILED,
        Cause: 'the campaign run failed; its run record holds the error',
      },
    },
  };
  // A compiler defect must fail the synth, not the deployment or a run.
  const problems = aslProblems(definition);
  if (problems.length > 0) {
    throw new Error(`campaign "${campaign.id}" compiled into invalid ASL:\n  ${problems.join('\n  ')}`);
  }
  return definition;
}

/**
 * The audience: a Distributed Map over `$.parts` (ItemsPath over the state input: input-output-itemspath.html), one
 * Standard child execution per parallel-scan segment, each looping Audience.page ⇄ Audience.more / Audience.next
 * through its segment. Each child has its own execution history (state-map-distributed.html), so the 25,000 events
 * bound one segment's pages, not the run's audience. All segments run at once (MaxConcurrencyPath: the segment count
 * `start` answers); any failed segment fails the map (ToleratedFailurePercentage 0). The children's outputs (a page
 * result each, a few hundred bytes) are dropped: ResultPath null, no ResultWriter.
 * https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemspath.html
 * https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html
 */
function audienceMap(): AslState {
  const S = CampaignState;
  return {
    Type: 'Map',
    ItemsPath: '$.parts',
    ItemSelector: {
      action: 'audience-page',
      'run.$': '$.run',
      'segment.$': '$$.Map.Item.Value',
      'totalSegments.$': '$.totalSegments',
    },
    MaxConcurrencyPath: '$.totalSegments',
    ToleratedFailurePercentage: 0,
    ItemProcessor: {
      ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
      StartAt: S.audiencePage,
      States: {
        // The child's state is the payload: the first page has no cursor, the next ones the previous result.
        [S.audiencePage]: {
          Type: 'Task',
          Resource: Resource.lambdaInvoke,
          Parameters: { FunctionName: ref(Placeholder.campaignStepFunction), 'Payload.$': '$' },
          Retry: RETRY,
          OutputPath: '$.Payload',
          Next: S.audienceMore,
        },
        [S.audienceMore]: {
          Type: 'Choice',
          Choices: [{ Variable: '$.cursor', IsPresent: true, Next: S.audienceNext }],
          Default: S.audienceDone,
        },
        // The page's result is the next page's payload, once it says again what it is.
        [S.audienceNext]: { Type: 'Pass', Result: 'audience-page', ResultPath: '$.action', Next: S.audiencePage },
        [S.audienceDone]: { Type: 'Succeed' },
      },
    },
    ResultPath: null,
  };
}

/** The first state of a step: a local-time delivery starts by grouping its set, every other step at its own name. */
export function entryState(campaign: Campaign, id: string): string {
  const step = campaign.steps[id];
  return step?.kind === 'deliver' && step.at !== undefined ? CampaignState.group(id) : CampaignState.step(id);
}

/** Where a step goes next: its successor's first state, or the end of the (branch) path. */
function then(scope: Scope, next: string | undefined): { Next: string } | { End: true } {
  return next === undefined ? { End: true } : { Next: entryState(scope.campaign, next) };
}

/** Adds the states of `id` and of the steps after it (on the same set) to `scope.states`. */
function compileStep(scope: Scope, id: string, set: SetPath): void {
  const step = scope.campaign.steps[id];
  const S = CampaignState;
  switch (step.kind) {
    case 'deliver':
      if (step.at !== undefined) compileLocalTime(scope, id, step, set);
      else scope.states[S.step(id)] = { ...distributedMap(scope, id, step, set), ...then(scope, step.next) };
      break;
    case 'enter-journey':
      scope.states[S.step(id)] = { ...distributedMap(scope, id, step, set), ...then(scope, step.next) };
      break;
    case 'wait':
      // A dry run counts what each step would do: it does not wait.
      scope.states[S.step(id)] = {
        Type: 'Choice',
        Choices: [{ Variable: '$.run.dryRun', BooleanEquals: true, ...then(scope, step.next) }],
        Default: S.wait(id),
      };
      scope.states[S.wait(id)] = { Type: 'Wait', Seconds: parseDuration(step.duration), ...then(scope, step.next) };
      break;
    case 'split':
      compileSplit(scope, id, step, set);
      return;
    case 'exit':
      scope.states[S.step(id)] = { Type: 'Succeed' };
      return;
    default:
      assertNever(step, 'step');
  }
  for (const { target } of stepSuccessors(step)) compileStep(scope, target, set);
}

/**
 * The per-member fan-out: a Distributed Map reading the set's JSON Lines object in batches. Fields as documented in
 * https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html (ItemReader InputType JSONL:
 * https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemreader.html; ItemBatcher BatchInput and
 * MaxInputBytesPerBatch, the batch arriving as `{Items, BatchInput}`:
 * https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itembatcher.html).
 * A Distributed Map may sit in a Parallel branch (it then needs states:StartExecution on its own state machine like
 * any other: https://docs.aws.amazon.com/step-functions/latest/dg/iam-policies-eg-dist-map.html; aws/aws-cdk#35391);
 * it is never put in an inline Map.
 */
function distributedMap(scope: Scope, id: string, step: CampaignStep, set: SetPath): AslState {
  if (!isPerMember(step)) throw new Error(`step "${id}" (${step.kind}) is not a per-member step`);
  const S = CampaignState;
  const rate = step.kind === 'deliver' || step.kind === 'enter-journey' ? step.rate : undefined;
  const concurrency = rate === undefined ? SPLIT_CONCURRENCY : mapConcurrency(rate, scope.batchSize);
  const fixed = { step: id, ...(rate === undefined ? {} : { rate }), concurrency };
  const action = step.kind as 'deliver' | 'enter-journey' | 'split';
  return {
    Type: 'Map',
    // Children's metrics name `stateMachine:<name>/<Label>` (concepts-examine-map-run): a fixed label lets alarms find them.
    Label: mapRunLabel(id),
    ItemReader: {
      Resource: 'arn:aws:states:::s3:getObject',
      ReaderConfig: { InputType: 'JSONL' },
      Parameters: { Bucket: ref(Placeholder.audienceBucket), 'Key.$': set },
    },
    ItemBatcher: {
      MaxItemsPerBatch: scope.batchSize,
      MaxInputBytesPerBatch: MAX_INPUT_BYTES_PER_BATCH,
      BatchInput: { 'run.$': '$.run', ...fixed },
    },
    MaxConcurrency: concurrency,
    // Any batch that still fails after its retries fails the step, and the run (Run's Catch).
    ToleratedFailurePercentage: 0,
    ItemProcessor: {
      ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
      StartAt: S.batch(id),
      States: action === 'split' ? splitChild(id, fixed) : sendingChild(id, action, fixed),
    },
    ResultWriter: {
      Resource: 'arn:aws:states:::s3:putObject',
      // Step Functions writes under <Prefix>/<map run id>/, so runs do not overwrite each other; the results hold the
      // batches' rows, so they sit under runs/, which the bucket's lifecycle expires.
      Parameters: { Bucket: ref(Placeholder.audienceBucket), Prefix: resultPrefix(scope.campaign.id, id) },
    },
    ResultPath: null,
  };
}

/**
 * A step's Distributed Map label: the step id, or for an id over the 40 characters a Label allows its first 31 and 8 hex
 * of its FNV-1a hash (https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html).
 */
export function mapRunLabel(stepId: string): string {
  if (stepId.length <= 40) return stepId;
  let hash = 0x811c9dc5;
  for (const char of stepId) hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193) >>> 0;
  return `${stepId.slice(0, 31)}-${hash.toString(16).padStart(8, '0')}`;
}

/** Where a step's Distributed Map writes its results (ResultWriter), under the expiring `runs/` prefix. */
export const resultPrefix = (campaignId: string, stepId: string): string => `runs/${campaignId}/results/${stepId}`;

/**
 * The child of a sending step (deliver, enter-journey): the batch, then paused → hold and resume from the cursor,
 * cancelled → end, done → wait out the batch's time slot (`paceSeconds`) so MaxConcurrency children keep to the
 * rate.
 */
function sendingChild(
  id: string,
  action: 'deliver' | 'enter-journey',
  fixed: Record<string, unknown>,
): Record<string, AslState> {
  const S = CampaignState;
  return {
    [S.batch(id)]: {
      Type: 'Task',
      ...invoke({ action, 'run.$': '$.BatchInput.run', ...fixed, 'items.$': '$.Items' }),
      OutputPath: '$.Payload',
      Next: S.result(id),
    },
    [S.result(id)]: {
      Type: 'Choice',
      Choices: [
        { Variable: '$.status', StringEquals: 'paused', Next: S.hold(id) },
        { Variable: '$.status', StringEquals: 'cancelled', Next: S.cancelled(id) },
      ],
      Default: S.pace(id),
    },
    // Paused: wait, then ask again from the first member not yet done (the function answers paused again meanwhile).
    [S.hold(id)]: { Type: 'Wait', Seconds: PAUSE_POLL_SECONDS, Next: S.resume(id) },
    [S.resume(id)]: {
      Type: 'Task',
      ...invoke({ action, 'run.$': '$.run', ...fixed, 'items.$': '$.items', 'cursor.$': '$.cursor' }),
      OutputPath: '$.Payload',
      Next: S.result(id),
    },
    [S.cancelled(id)]: { Type: 'Succeed' },
    [S.pace(id)]: { Type: 'Wait', SecondsPath: '$.paceSeconds', End: true },
  };
}

/** A split's child sends nothing, so it neither pauses nor paces: one state (one transition per batch). */
function splitChild(id: string, fixed: Record<string, unknown>): Record<string, AslState> {
  return {
    [CampaignState.batch(id)]: {
      Type: 'Task',
      ...invoke({ action: 'split', 'run.$': '$.BatchInput.run', ...fixed, 'items.$': '$.Items' }),
      ResultSelector: { 'status.$': '$.Payload.status' },
      End: true,
    },
  };
}

/**
 * deliver with `at`: `group-by-time` splits the set into one object per send instant; a loop at this level then waits
 * for each instant and runs the step's Distributed Map over that group (a Distributed Map stays out of inline Maps).
 */
function compileLocalTime(scope: Scope, id: string, step: DeliverStep, set: SetPath): void {
  const S = CampaignState;
  const at = `$.at.${stepKey(id)}`;
  const after = step.next === undefined ? S.groupsDone(id) : entryState(scope.campaign, step.next);
  scope.states[S.group(id)] = {
    Type: 'Task',
    ...invoke({ action: 'group-by-time', 'run.$': '$.run', step: id, 'set.$': set }),
    ResultSelector: {
      'groups.$': '$.Payload.groups',
      'count.$': 'States.ArrayLength($.Payload.groups)',
      pos: { i: 0 },
    },
    ResultPath: at,
    Next: S.moreGroups(id),
  };
  scope.states[S.moreGroups(id)] = {
    Type: 'Choice',
    Choices: [{ Variable: `${at}.pos.i`, NumericLessThanPath: `${at}.count`, Next: S.groupItem(id) }],
    Default: after,
  };
  scope.states[S.groupItem(id)] = {
    Type: 'Pass',
    Parameters: { 'group.$': `States.ArrayGetItem(${at}.groups, ${at}.pos.i)` },
    ResultPath: `${at}.current`,
    Next: S.groupWhen(id),
  };
  scope.states[S.groupWhen(id)] = {
    Type: 'Choice',
    Choices: [{ Variable: '$.run.dryRun', BooleanEquals: true, Next: S.step(id) }],
    Default: S.groupWait(id),
  };
  scope.states[S.groupWait(id)] = { Type: 'Wait', TimestampPath: `${at}.current.group.sendAt`, Next: S.step(id) };
  scope.states[S.step(id)] = { ...distributedMap(scope, id, step, `${at}.current.group.key`), Next: S.nextGroup(id) };
  scope.states[S.nextGroup(id)] = {
    Type: 'Pass',
    Parameters: { 'i.$': `States.MathAdd(${at}.pos.i, 1)` },
    ResultPath: `${at}.pos`,
    Next: S.moreGroups(id),
  };
  if (step.next === undefined) scope.states[S.groupsDone(id)] = { Type: 'Succeed' };
}

/**
 * split: the Distributed Map's children write each member to its branch's parts; one compose per continuing branch
 * makes the branch's set (`$.sets.<step>__<branch>`); then the branches run in parallel, each on its own set. The
 * holdout of a percent split is only counted.
 */
function compileSplit(scope: Scope, id: string, step: SplitStep, set: SetPath): void {
  const S = CampaignState;
  const branches = splitBranches(step);
  scope.states[S.step(id)] = { ...distributedMap(scope, id, step, set), Next: S.compose(id, branches[0].branch!) };
  branches.forEach((edge, i) => {
    const branch = edge.branch!;
    scope.states[S.compose(id, branch)] = {
      Type: 'Task',
      ...invoke({
        action: 'compose',
        'run.$': '$.run',
        'parts.$': `States.Format('{}parts/${id}/${branch}/', $.run.prefix)`,
        'key.$': `States.Format('{}sets/${id}/${branch}.jsonl', $.run.prefix)`,
      }),
      ResultSelector: { 'key.$': '$.Payload.key', 'count.$': '$.Payload.count' },
      ResultPath: `$.sets.${setField(id, branch)}`,
      Next: i + 1 < branches.length ? S.compose(id, branches[i + 1].branch!) : S.branches(id),
    };
  });
  scope.states[S.branches(id)] = {
    Type: 'Parallel',
    Branches: branches.map((edge) => {
      const states: Record<string, AslState> = {};
      compileStep({ ...scope, states }, edge.target, `$.sets.${setField(id, edge.branch!)}.key`);
      return { StartAt: entryState(scope.campaign, edge.target), States: states };
    }),
    ResultPath: null,
    End: true,
  };
}

/**
 * The run's time limit: the waits on its longest path, plus two days per local-time step (a zone's 09:00 may be
 * tomorrow) and a week for sending and pauses; at most a year, a Standard execution's limit.
 */
export function runTimeoutSeconds(campaign: Campaign): number {
  const longest = (id: string): number => {
    const step = campaign.steps[id];
    const local = step.kind === 'deliver' && step.at !== undefined;
    const own = step.kind === 'wait' ? parseDuration(step.duration) : local ? 2 * 86400 : 0;
    return own + Math.max(0, ...stepSuccessors(step).map((e) => longest(e.target)));
  };
  return Math.min(365 * 86400, longest(campaign.start) + 7 * 86400);
}
