import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { MiddlewareObj } from '@middy/core';
import type { JourneyMetric } from '../core/measure/metrics';

type TracerMiddleware = typeof import('@aws-lambda-powertools/tracer/middleware');

/** Built once per module (per container). Locally the stack turns metrics and tracing off through Powertools' own variables. */
export const logger = new Logger({ serviceName: 'waymark' });
/** The stage's namespace (`Waymark/<stage>`, set by the app stack), so two stages in one account never share a metric. */
export const METRICS_NAMESPACE = process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Waymark';
/**
 * Pure (the annotation): a bundle whose handler emits no metric (no `withMetrics`, no journey counter) leaves out the
 * Powertools metrics package altogether (test/unit/architecture/bundles.test.ts).
 */
export const metrics = /* @__PURE__ */ new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'waymark' });

/**
 * Replaced at bundle time (esbuild `define`, lib/constructs/bundling.ts `TRACE_AWS_CALLS_CONSTANT`) by the stage's
 * `traceAwsCalls`; unset when the code runs unbundled (tests, the local stack), where it counts as true.
 */
declare const WAYMARK_TRACE_AWS_CALLS: boolean | undefined;

/**
 * The Powertools tracer's modules (it loads the X-Ray SDK, ~140 KB whose async hooks tax every promise), where used:
 * not where tracing is off (the local stack, the bench), and not bundled at all where the bundle defines the constant
 * false (the default). One expression on purpose: esbuild drops the `require`s only when the condition folds to a
 * literal in place, not through a variable (test/unit/architecture/bundles.test.ts checks the bundles). Lambda's active
 * tracing records every invocation either way.
 */
const tracing =
  (typeof WAYMARK_TRACE_AWS_CALLS !== 'boolean' || WAYMARK_TRACE_AWS_CALLS) &&
  process.env.POWERTOOLS_TRACE_ENABLED !== 'false'
    ? {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        Tracer: (require('@aws-lambda-powertools/tracer') as typeof import('@aws-lambda-powertools/tracer')).Tracer,
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        middleware: require('@aws-lambda-powertools/tracer/middleware') as TracerMiddleware,
      }
    : undefined;

export const tracer: Tracer | undefined = tracing ? new tracing.Tracer({ serviceName: 'waymark' }) : undefined;

/** The middy middleware recording the handler as an X-Ray segment's subsegment, where the tracer is used. */
export function tracerMiddleware(): MiddlewareObj | undefined {
  return tracing && tracer ? tracing.middleware.captureLambdaHandler(tracer, { captureResponse: false }) : undefined;
}

/** Wraps an AWS SDK client for X-Ray when tracing is on. */
export function traced<T>(client: T): T {
  return tracer ? tracer.captureAWSv3Client(client) : client;
}

/**
 * Writes one journey metric (lambdas/core/measure/metrics.ts) as its own EMF record, at once: its dimension sets
 * differ from the handler's buffered metrics. `Journey` is a default dimension of the record, so every set has it,
 * and `{}` is the set [service, Journey] (EMF: up to 30 dimensions a set,
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
 */
export function emitJourneyMetric(metric: JourneyMetric, into: Metrics = metrics): void {
  const single = into.singleMetric();
  single.setDefaultDimensions({ Journey: metric.journeyId });
  for (const set of metric.dimensionSets) single.addDimensions(set);
  single.addMetric(metric.name, metric.unit === 'Count' ? MetricUnit.Count : MetricUnit.NoUnit, metric.value);
}
