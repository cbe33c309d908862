import { own } from '../shared/records';
import { RUN_COUNTER, type CampaignRegistry, type CampaignRuns, type RunCount } from './contract';
import type { Campaign } from './schema';

/**
 * CloudWatch metric of campaign messages: one `CampaignMessages` per (campaign, channel, outcome) and batch, from the
 * run counters a batch added (each counted once, after the ledger settled it). Dimensions Campaign, Channel, Outcome;
 * never the run or the member (each distinct value is a metric billed on its own). The emitter is Powertools EMF
 * (lambdas/shared/powertools.ts), the dashboard `waymark-<stage>-campaigns` reads it by SEARCH.
 */
export const CAMPAIGN_MESSAGES_METRIC = 'CampaignMessages';
export const CAMPAIGN_MESSAGE_OUTCOMES = [RUN_COUNTER.sent, RUN_COUNTER.failed, RUN_COUNTER.suppressed] as const;
export type CampaignMessageOutcome = (typeof CAMPAIGN_MESSAGE_OUTCOMES)[number];

export interface CampaignMessageMetric {
  campaignId: string;
  channel: string;
  outcome: CampaignMessageOutcome;
  value: number;
}

/** The message outcomes among counts added for a campaign, summed per (channel, outcome); other counters are left out. */
export function campaignMessageMetrics(campaign: Campaign, counts: readonly (Omit<RunCount, 'value'> & { value?: number })[]): CampaignMessageMetric[] {
  const sums = new Map<string, CampaignMessageMetric>();
  for (const count of counts) {
    const outcome = CAMPAIGN_MESSAGE_OUTCOMES.find((o) => o === count.name);
    const step = count.step === '' ? undefined : own(campaign.steps, count.step);
    if (outcome === undefined || step?.kind !== 'deliver') continue;
    const key = `${step.channel}\u0000${outcome}`;
    const sum = sums.get(key) ?? { campaignId: campaign.id, channel: step.channel, outcome, value: 0 };
    sum.value += count.value ?? 1;
    sums.set(key, sum);
  }
  return [...sums.values()];
}

/**
 * The run store, emitting the message metrics of every count it accepted. The campaign (for the step's channel) is read
 * from the registry once per container and campaign: a deploy that changes a step's channel is seen by new containers.
 * A metric is a side channel: its failure never fails the batch (the counts are written).
 */
export function countingCampaignMessages(
  runs: CampaignRuns,
  registry: Pick<CampaignRegistry, 'get'>,
  emit: (metric: CampaignMessageMetric) => void,
  onError: (error: unknown) => void = () => {},
): CampaignRuns {
  const campaigns = new Map<string, Promise<Campaign | undefined>>();
  const campaignOf = (campaignId: string) => {
    let found = campaigns.get(campaignId);
    if (!found) {
      found = registry.get(campaignId).then((r) => r?.campaign);
      found.catch(() => campaigns.delete(campaignId));
      campaigns.set(campaignId, found);
    }
    return found;
  };
  const add: CampaignRuns['add'] = async (campaignId, runId, counts) => {
    await runs.add(campaignId, runId, counts);
    if (!counts.some((c) => c.step !== '' && (CAMPAIGN_MESSAGE_OUTCOMES as readonly string[]).includes(c.name))) return;
    try {
      const campaign = await campaignOf(campaignId);
      if (campaign) for (const metric of campaignMessageMetrics(campaign, counts)) emit(metric);
    } catch (error) {
      onError(error);
    }
  };
  // Every other method as it is (a Proxy: methods added to the port later pass through too).
  return new Proxy(runs, {
    get: (target, property, receiver) => {
      if (property === 'add') return add;
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
