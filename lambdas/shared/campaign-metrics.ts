import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { CAMPAIGN_MESSAGES_METRIC, type CampaignMessageMetric } from '../core/campaigns/metrics';
import { metrics } from './powertools';

/**
 * Writes one campaign message metric (lambdas/core/campaigns/metrics.ts) as its own EMF record. Apart from
 * powertools.ts so that only campaign-step bundles the campaign contract.
 */
export function emitCampaignMessageMetric(metric: CampaignMessageMetric, into: Metrics = metrics): void {
  const single = into.singleMetric();
  // Default dimensions of this record only: its one set is [service, Campaign, Channel, Outcome] (no [service] set).
  single.setDefaultDimensions({ Campaign: metric.campaignId, Channel: metric.channel, Outcome: metric.outcome });
  single.addMetric(CAMPAIGN_MESSAGES_METRIC, MetricUnit.Count, metric.value);
}
