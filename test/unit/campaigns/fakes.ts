import type { CampaignRegistry, RegisteredCampaign, RunContext } from '../../../lambdas/core/campaigns/contract';
import { Campaign, type CampaignInput } from '../../../lambdas/core/campaigns/schema';

/** A campaign from a partial file (parsed, so defaults apply as when deployed). */
export function campaign(over: Partial<CampaignInput> = {}): Campaign {
  return Campaign.parse({
    schemaVersion: 1,
    id: 'news',
    name: 'News',
    audience: { segment: 'gold' },
    schedule: { type: 'on-demand' },
    start: 'email',
    steps: { email: { kind: 'deliver', channel: 'email', template: { subject: 'Hi', text: 'Hello' } } },
    ...over,
  });
}

/** A registry holding these campaigns. */
export function registry(...campaigns: Campaign[]): CampaignRegistry {
  const records: RegisteredCampaign[] = campaigns.map((c) => ({ campaign: c, stateMachineArn: `arn:sm:${c.id}`, version: 'v1' }));
  return { list: async () => records, get: async (id) => records.find((r) => r.campaign.id === id) };
}

export function runContext(over: Partial<RunContext> = {}): RunContext {
  return { campaignId: 'news', runId: 'r-1', prefix: 'runs/news/r-1/', startedAt: '2026-12-03T09:00:00.000Z', dryRun: false, ...over };
}
