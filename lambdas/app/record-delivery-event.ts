import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SuppressionList } from '../core/consent/ports';
import { recordDeliveryEvent, type DeliveryEventResult } from '../core/consent/ses-events';
import { logger, metrics } from '../shared/powertools';
import { withPowertools } from './middleware';

/** EventBridge rule target for SES bounces and complaints (SES_DELIVERY_EVENT_PATTERN): suppresses the addresses. */
export function createRecordDeliveryEventHandler(deps: { suppression: SuppressionList }) {
  return withPowertools(
    async (raw: unknown): Promise<DeliveryEventResult> => {
      const result = await recordDeliveryEvent(deps, raw);
      if (result.status === 'suppressed') metrics.addMetric('AddressesSuppressed', MetricUnit.Count, result.addresses.length);
      else logger.info('SES event ignored', { reason: result.reason });
      return result;
    },
    { emitsMetrics: true },
  );
}
