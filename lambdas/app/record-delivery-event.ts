import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { recordEngagementEvent, type EngagementDeps, type EngagementResult } from '../core/engagement/record';
import { logger, metrics } from '../shared/powertools';
import { withMetrics } from './metrics-middleware';

/**
 * EventBridge rule target for the SES events of the stage's configuration set (SES_DELIVERY_EVENT_PATTERN): bounces
 * and complaints suppress addresses; every event is attributed to its message's ledger entry, counted once and
 * applied to the profile. Also the target of the stage's SMS status events (SMS_STATUS_EVENT_PATTERN): deliveries and
 * carrier failures recorded and counted once (lambdas/core/engagement/README.md).
 */
export function createRecordDeliveryEventHandler(deps: EngagementDeps) {
  if (deps.counters === null) logger.warn('no journey counters store: engagement events are recorded but not counted');
  return withMetrics(
    async (raw: unknown): Promise<EngagementResult> => {
      const result = await recordEngagementEvent(deps, raw);
      if (result.suppressed) metrics.addMetric('AddressesSuppressed', MetricUnit.Count, result.suppressed.length);
      if (result.status === 'recorded') metrics.addMetric('EngagementRecorded', MetricUnit.Count, 1);
      // A campaign email's outcome is on its ledger entry; its run counts it only with the run store composed in.
      if (result.status === 'recorded' && result.campaign && !deps.campaignRuns) {
        logger.warn('campaign engagement recorded but not counted: no campaign run store', { campaign: result.campaign });
      }
      else if (result.status === 'ignored' || result.status === 'unattributed') logger.info('engagement event not recorded', { result });
      return result;
    },
  );
}
