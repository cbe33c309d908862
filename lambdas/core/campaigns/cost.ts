import type { AslDefinition, AslState } from '../journey/asl';
import { STANDARD_USD_PER_TRANSITION } from '../journey/cost';
import { CampaignState } from './compile';
import { DEFAULT_CAMPAIGN_SCAN_SEGMENTS } from './run';
import { splitBranches, stepSuccessors } from './graph';
import type { Campaign } from './schema';

/**
 * What one run of a campaign costs in Step Functions, Lambda and S3 requests, read from its compiled definition
 * (batch sizes, the states of each Distributed Map child) and the campaign (who reaches which step). List prices,
 * us-east-1, free tiers not counted; data transfer, DynamoDB and the messages themselves (SES, SNS, Pinpoint) are not
 * orchestration and are left out.
 */

/** Standard workflows: $0.025 per 1,000 state transitions (https://aws.amazon.com/step-functions/pricing/). */
export { STANDARD_USD_PER_TRANSITION };
/** Lambda: $0.20 per million requests, $0.0000166667 per GB-second on x86 (https://aws.amazon.com/lambda/pricing/). */
export const LAMBDA_USD_PER_REQUEST = 0.2 / 1_000_000;
export const LAMBDA_USD_PER_GB_SECOND = 0.0000166667;
/** S3 Standard: PUT, COPY, POST, LIST $0.005 per 1,000; GET $0.0004 per 1,000 (https://aws.amazon.com/s3/pricing/). */
export const S3_USD_PER_PUT = 0.005 / 1000;
export const S3_USD_PER_GET = 0.0004 / 1000;

export interface CampaignCostOptions {
  /** Members of the audience after exclusions. */
  recipients: number;
  /** Memory of the campaign-step function (MB); default 512. */
  memoryMb?: number;
  /** Function time per message in a batch (ms; sends run a few at a time); default 20. */
  msPerMessage?: number;
  /** Function time per invocation besides its members (ms); default 100. */
  msPerInvocation?: number;
  /** Audience rows per audience page; default 1,000 (profiles scanned but not matched are not counted). */
  audiencePageSize?: number;
  /** Send-time groups of a local-time delivery (one per UTC offset with members); default 40. */
  timeGroups?: number;
  /** Parallel-scan segments of the audience (one child execution each); default DEFAULT_CAMPAIGN_SCAN_SEGMENTS. */
  scanSegments?: number;
}

export interface StepCost {
  step: string;
  kind: string;
  /** Members the step works on (the worst case for rule and engagement splits, see campaignCost). */
  members: number;
  /** Distributed Map batches; for the audience, its pages. */
  batches: number;
  /** Child executions the step's Distributed Map starts: one per batch; for the audience, one per scan segment. */
  childExecutions: number;
  transitions: number;
  invocations: number;
  gbSeconds: number;
  s3Gets: number;
  s3Puts: number;
  usd: number;
}

export interface CampaignCost {
  recipients: number;
  batchSize: number;
  steps: StepCost[];
  stepFunctions: { transitions: number; childExecutions: number; usd: number };
  lambda: { invocations: number; gbSeconds: number; usd: number };
  s3: { gets: number; puts: number; usd: number };
  usd: number;
  usdPerMillion: number;
}

/** Average bytes of an audience row, and the size of the parts a composed set is uploaded in. */
const ROW_BYTES = 200;
const MULTIPART_BYTES = 5 * 1024 * 1024;
/** What the run does whatever its audience: Start, its Choice, the audience Map, compose, Run, Finish. */
const RUN_TRANSITIONS = 6;
/**
 * Each child execution a Distributed Map starts is billed one state transition, besides the child's own
 * (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-transitions.html, "Transitions in Distributed Map").
 */
const CHILD_START_TRANSITIONS = 1;
/** Per audience page: milliseconds of scanning and evaluating one row. */
const MS_PER_SCANNED_ROW = 2;

type Scope = { StartAt: string; States: Record<string, AslState> };

/** Every state of the definition by name, the children of Distributed Maps included (names are unique). */
function allStates(scope: Scope, into = new Map<string, AslState>()): Map<string, AslState> {
  for (const [name, state] of Object.entries(scope.States)) {
    into.set(name, state);
    for (const branch of (state.Branches as Scope[] | undefined) ?? []) allStates(branch, into);
    if (state.ItemProcessor) allStates(state.ItemProcessor as Scope, into);
  }
  return into;
}

/**
 * Walks a child's states from StartAt, one transition a state, choosing at a Choice with `atChoice`, until the path
 * ends or comes back to a state already walked: the count, and where it stopped.
 */
function walk(processor: Scope, atChoice: (state: AslState) => unknown): { count: number; stoppedAt: string | undefined } {
  let count = 0;
  let name: string | undefined = processor.StartAt;
  const seen = new Set<string>();
  while (name !== undefined && !seen.has(name)) {
    seen.add(name);
    count++;
    const state: AslState | undefined = processor.States[name];
    const next: unknown = state?.Type === 'Choice' ? atChoice(state) : state?.Next;
    name = typeof next === 'string' ? next : undefined;
  }
  return { count, stoppedAt: name };
}

/** Transitions of one child execution when nothing pauses: from StartAt along Next, a Choice's Default, to the end. */
export function childTransitions(processor: Scope): number {
  return walk(processor, (choice) => choice.Default).count;
}

/**
 * Transitions of one round of a child's loop (the audience child: page, more, next, back to the page): from StartAt
 * along Next and, at a Choice, its first rule, until StartAt comes round again. 0 when the child has no loop.
 */
export function loopTransitions(processor: Scope): number {
  const { count, stoppedAt } = walk(processor, (choice) => (choice.Choices as { Next?: unknown }[] | undefined)?.[0]?.Next);
  return stoppedAt === processor.StartAt ? count : 0;
}

/**
 * The cost of one run reaching `recipients` members. Members flow down the steps: a percent split passes each variant
 * its weight (the holdout nothing); a rule or engagement split sends all its members down its costliest branch (an
 * upper bound: branches share the members). Pauses and retries are not counted.
 */
export function campaignCost(
  campaign: Campaign,
  definition: AslDefinition,
  options: CampaignCostOptions,
): CampaignCost {
  const memoryGb = (options.memoryMb ?? 512) / 1024;
  const msPerMessage = options.msPerMessage ?? 20;
  const msPerInvocation = options.msPerInvocation ?? 100;
  const pageSize = options.audiencePageSize ?? 1000;
  const timeGroups = options.timeGroups ?? 40;
  const states = allStates(definition);
  let batchSize = 0;

  const lambdaSeconds = (invocations: number, messages: number) =>
    (invocations * msPerInvocation + messages * msPerMessage) / 1000;
  const priced = (c: Omit<StepCost, 'usd'>): StepCost => ({
    ...c,
    usd:
      c.transitions * STANDARD_USD_PER_TRANSITION +
      c.invocations * LAMBDA_USD_PER_REQUEST +
      c.gbSeconds * LAMBDA_USD_PER_GB_SECOND +
      c.s3Gets * S3_USD_PER_GET +
      c.s3Puts * S3_USD_PER_PUT,
  });
  /** The composing of a set from its parts: a GET per part, a PUT per multipart part. */
  const compose = (members: number, parts: number) => ({
    gets: parts,
    puts: Math.ceil((members * ROW_BYTES) / MULTIPART_BYTES) + 2,
  });

  const stepCost = (id: string, members: number): StepCost[] => {
    const step = campaign.steps[id];
    const parentStates = [...states.keys()].filter((n) => n === id || n.startsWith(`${id}.`));
    const map = states.get(CampaignState.step(id));
    let own: StepCost;
    if (map?.Type === 'Map' && map.ItemProcessor) {
      const processor = map.ItemProcessor as Scope;
      const size = (map.ItemBatcher as { MaxItemsPerBatch: number }).MaxItemsPerBatch;
      batchSize = Math.max(batchSize, size);
      const local = step.kind === 'deliver' && step.at !== undefined;
      const batches = Math.ceil(members / size) + (local ? timeGroups : 0);
      const messages = members * (step.kind === 'deliver' && step.forEach ? step.forEach.max : 1);
      const childNames = new Set(Object.keys(processor.States));
      const inParent = parentStates.filter((n) => !childNames.has(n)).length;
      const branches = step.kind === 'split' ? splitBranches(step).length : 0;
      const setParts = compose(members, batches);
      own = priced({
        step: id,
        kind: step.kind,
        members,
        batches,
        childExecutions: batches,
        // A local-time step goes round its loop once per group.
        transitions:
          batches * (CHILD_START_TRANSITIONS + childTransitions(processor)) + inParent * (local ? timeGroups : 1),
        invocations: batches + branches + (local ? 1 : 0),
        gbSeconds: lambdaSeconds(batches + branches, messages) * memoryGb,
        // The reader's GETs (one per batch, an upper bound), the results (manifest and result files), a split's parts.
        s3Gets: batches + (branches > 0 ? setParts.gets : 0),
        s3Puts: 3 + (branches > 0 ? batches * branches + branches * setParts.puts : 0),
      });
    } else {
      own = priced({
        step: id,
        kind: step.kind,
        members,
        batches: 0,
        childExecutions: 0,
        transitions: parentStates.length,
        invocations: 0,
        gbSeconds: 0,
        s3Gets: 0,
        s3Puts: 0,
      });
    }
    if (step.kind === 'split' && step.by !== 'percent') {
      const options = splitBranches(step).map((edge) => stepCost(edge.target, members));
      const total = (costs: StepCost[]) => costs.reduce((sum, c) => sum + c.usd, 0);
      return [own, ...options.reduce((worst, costs) => (total(costs) > total(worst) ? costs : worst), [])];
    }
    if (step.kind === 'split') {
      return [own, ...step.variants.flatMap((v) => stepCost(v.next, (members * v.weight) / 100))];
    }
    return [own, ...stepSuccessors(step).flatMap((edge) => stepCost(edge.target, members))];
  };

  // The audience: one child per scan segment, each paging through its share of the profiles in its own history.
  const recipients = options.recipients;
  const segments = options.scanSegments ?? DEFAULT_CAMPAIGN_SCAN_SEGMENTS;
  const audienceProcessor = definition.States[CampaignState.audience]?.ItemProcessor as Scope | undefined;
  if (!audienceProcessor) throw new Error(`the definition has no ${CampaignState.audience} Map`);
  const pagesPerSegment = Math.max(1, Math.ceil(recipients / segments / pageSize));
  const pages = segments * pagesPerSegment;
  const perChild =
    CHILD_START_TRANSITIONS +
    childTransitions(audienceProcessor) +
    (pagesPerSegment - 1) * loopTransitions(audienceProcessor);
  const audienceParts = compose(recipients, pages);
  const audience = priced({
    step: '',
    kind: 'audience',
    members: recipients,
    batches: pages,
    childExecutions: segments,
    transitions: RUN_TRANSITIONS + segments * perChild,
    invocations: pages + 3,
    gbSeconds: ((pages * (msPerInvocation + pageSize * MS_PER_SCANNED_ROW) + 3 * msPerInvocation) / 1000) * memoryGb,
    s3Gets: audienceParts.gets,
    s3Puts: pages + audienceParts.puts,
  });
  const steps = [audience, ...stepCost(campaign.start, recipients)];
  const sum = (pick: (c: StepCost) => number) => steps.reduce((total, c) => total + pick(c), 0);
  const transitions = sum((c) => c.transitions);
  const invocations = sum((c) => c.invocations);
  const gbSeconds = sum((c) => c.gbSeconds);
  const gets = sum((c) => c.s3Gets);
  const puts = sum((c) => c.s3Puts);
  const usd = sum((c) => c.usd);
  return {
    recipients,
    batchSize,
    steps,
    stepFunctions: {
      transitions,
      childExecutions: sum((c) => c.childExecutions),
      usd: transitions * STANDARD_USD_PER_TRANSITION,
    },
    lambda: {
      invocations,
      gbSeconds,
      usd: invocations * LAMBDA_USD_PER_REQUEST + gbSeconds * LAMBDA_USD_PER_GB_SECOND,
    },
    s3: { gets, puts, usd: gets * S3_USD_PER_GET + puts * S3_USD_PER_PUT },
    usd,
    usdPerMillion: recipients > 0 ? (usd / recipients) * 1_000_000 : 0,
  };
}
