import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context } from 'aws-lambda';
import { metrics } from '../shared/powertools';
import { withPowertools } from './middleware';

/**
 * `withPowertools` plus the flush of the metrics the handler adds (one EMF record an invocation). A module of its own:
 * only the bundles of the handlers that emit metrics hold the Powertools metrics middleware.
 */
export function withMetrics<TEvent, TResult>(fn: (event: TEvent, context: Context) => Promise<TResult>) {
  return withPowertools(fn).use(logMetrics(metrics));
}
