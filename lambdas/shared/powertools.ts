import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { JourneyMetric } from '../core/measure/metrics';

/** Built once per module (per container). Locally the stack turns metrics and tracing off through Powertools' own variables. */
export const logger = new Logger({ serviceName: 'waymark' });
/** The stage's namespace (`Waymark/<stage>`, set by the app stack), so two stages in one account never share a metric. */
export const METRICS_NAMESPACE = process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Waymark';
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'waymark' });

/**
 * The tracer loads the X-Ray SDK, whose async hooks tax every promise; where tracing is off (the local stack,
 * the bench) it is not loaded at all.
 */
export const tracer: Tracer | undefined =
  process.env.POWERTOOLS_TRACE_ENABLED === 'false'
    ? undefined
    : // eslint-disable-next-line @typescript-eslint/no-require-imports
      new (require('@aws-lambda-powertools/tracer') as typeof import('@aws-lambda-powertools/tracer')).Tracer({ serviceName: 'waymark' });

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
