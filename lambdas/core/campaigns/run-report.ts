import { experiment, type ArmReport, type ExperimentReport } from '../measure/report';
import { ratio, type Figure } from '../measure/stats';
import { EXCLUSION, RUN_COUNTER, type CampaignRunRecord, type RunCount, type RunCounterName } from './contract';
import { HOLDOUT_BRANCH } from './graph';
import type { Campaign } from './schema';
import { dict } from '../shared/records';

/**
 * A run's conversions as GET /campaigns/{id}/runs/{runId} answers them: the run's members (intention to treat), each
 * deliver step's recipients, and the experiments: the audience against the global control group, and each percent
 * split's variants against its holdout (else its first variant). The statistics are the journey report's
 * (measure/report.ts `experiment`, measure/stats.ts): uplift with its always-valid interval and p-value.
 */

export interface StepConversions {
  /** Messages the step sent (a forEach step: one per item). */
  sent: number;
  /** Members converted within the goal's window after one of the step's messages. */
  converted: number;
  conversionRate: Figure<{ value: number }>;
  revenue: number;
}

export type CampaignRunConversions = Figure<{
  goal: NonNullable<Campaign['goal']>;
  /** The run's audience (after exclusions): every member is measured, messaged or not. */
  members: number;
  converted: number;
  conversionRate: Figure<{ value: number }>;
  revenue: number;
  revenuePerMember: Figure<{ value: number }>;
  averageOrderValue: Figure<{ value: number }>;
  controlGroup: { members: number; converted: number; conversionRate: Figure<{ value: number }>; revenue: number };
  steps: Record<string, StepConversions>;
  experiments: ExperimentReport[];
}>;

/** The audience arm's id in the control-group experiment. */
export const AUDIENCE_ARM = 'audience';
/** The sum of a counter of a step (`''`: the run), of one dimension or of all. */
function sum(counts: readonly RunCount[], step: string, name: RunCounterName, dim?: string): number {
  let total = 0;
  for (const c of counts) {
    if (c.step === step && c.name === name && (dim === undefined || c.dim === dim)) total += c.value;
  }
  return total;
}

/** An experiment arm: its members (`entries`) and the conversions and revenue counted under `step` / `dim`. */
function arm(counts: readonly RunCount[], step: string, dim: string, weight: number, entries: number): ArmReport {
  const id = dim;
  const conversions = sum(counts, step, RUN_COUNTER.converted, dim);
  const revenue = sum(counts, step, RUN_COUNTER.revenue, dim);
  return { id, weight, entries, conversions, conversionRate: ratio(conversions, entries, 'members'), revenue };
}

/** The run's conversions from its counts; unavailable without a goal, for a dry run, or before the run started. */
export function campaignRunConversions(
  campaign: Campaign,
  run: Pick<CampaignRunRecord, 'dryRun'>,
  counts: readonly RunCount[],
): CampaignRunConversions {
  const { goal } = campaign;
  if (!goal) return { available: false, reason: 'the campaign declares no goal' };
  if (run.dryRun) return { available: false, reason: 'a dry run sends nothing and measures nothing' };
  const members = sum(counts, '', RUN_COUNTER.audience);
  const converted = sum(counts, '', RUN_COUNTER.converted, '');
  const revenue = sum(counts, '', RUN_COUNTER.revenue, '');
  const controlMembers = sum(counts, '', RUN_COUNTER.excluded, EXCLUSION.controlGroup);
  const control = arm(counts, '', EXCLUSION.controlGroup, 0, controlMembers);
  const experiments: ExperimentReport[] = [];
  if (control.entries > 0) {
    const audience = { ...arm(counts, '', '', 0, members), id: AUDIENCE_ARM };
    const compared = experiment('campaign-control-group', undefined, [control, audience], EXCLUSION.controlGroup);
    // The arms' sizes follow the stage's control-group share and the run's cap, not weights of this campaign.
    const reason = 'the control group is a share of all profiles set by the stage: not checked against the audience';
    const sampleRatio = { available: false as const, reason };
    experiments.push({ ...compared, sampleRatio });
  }
  const steps = dict<StepConversions>();
  for (const [id, step] of Object.entries(campaign.steps)) {
    if (step.kind === 'deliver') {
      const sent = sum(counts, id, RUN_COUNTER.sent);
      const stepConverted = sum(counts, id, RUN_COUNTER.converted);
      const conversionRate = ratio(stepConverted, sent, 'messages sent');
      steps[id] = { sent, converted: stepConverted, conversionRate, revenue: sum(counts, id, RUN_COUNTER.revenue) };
    } else if (step.kind === 'split' && step.by === 'percent') {
      const assigned = (branch: string) => sum(counts, id, RUN_COUNTER.assigned, branch);
      const arms = step.variants.map((v) => arm(counts, id, v.id, v.weight, assigned(v.id)));
      if (step.holdout) arms.push(arm(counts, id, HOLDOUT_BRANCH, step.holdout.weight, assigned(HOLDOUT_BRANCH)));
      const against = step.holdout ? HOLDOUT_BRANCH : arms[0].id;
      if (arms.length >= 2) experiments.push(experiment('campaign-split', id, arms, against));
    }
  }
  return {
    available: true,
    goal,
    members,
    converted,
    conversionRate: ratio(converted, members, 'members'),
    revenue,
    revenuePerMember: ratio(revenue, members, 'members'),
    averageOrderValue: ratio(revenue, converted, 'conversions'),
    controlGroup: {
      members: control.entries,
      converted: control.conversions,
      conversionRate: control.conversionRate,
      revenue: control.revenue,
    },
    steps,
    experiments,
  };
}
