import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { parseEventBridgeEvent } from '../core/events/bus-event';
import { routeBusEvent, type RouteDeps, type RouteResult } from '../core/runtime/route';
import { logger, metrics } from '../shared/powertools';
import { withMetrics } from './metrics-middleware';

/** EventBridge rule target: routes one business event. Infrastructure failures throw, so EventBridge/Lambda retry. */
export function createRouteEventHandler(deps: RouteDeps) {
  return withMetrics(async (raw: unknown): Promise<RouteResult> => {
    const envelope = parseEventBridgeEvent(raw);
    const result = envelope.ok ? await routeBusEvent(deps, envelope.value) : await rejectMalformed(deps, raw, envelope.errors);
    if (result.status === 'rejected') {
      metrics.addMetric('EventsRejected', MetricUnit.Count, 1);
      logger.warn('event rejected', { errors: result.errors });
    } else if (result.status === 'routed') {
      metrics.addMetric('EventsRouted', MetricUnit.Count, 1);
      metrics.addMetric('JourneysEntered', MetricUnit.Count, result.entries.filter((e) => e.status === 'started').length);
      metrics.addMetric('WaitsResumed', MetricUnit.Count, result.resumed.length);
    } else if (result.status === 'catalog') {
      metrics.addMetric('WaitsResumed', MetricUnit.Count, result.resumed.length);
    }
    return result;
  });
}

async function rejectMalformed(deps: RouteDeps, raw: unknown, errors: { field: string; message: string }[]): Promise<RouteResult> {
  await deps.rejected.put({ receivedAt: deps.clock.now().toISOString(), origin: 'bus', errors, raw });
  return { status: 'rejected', errors };
}
