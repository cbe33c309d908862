import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';

/** Built once per module (per container). Locally the stack turns metrics and tracing off through Powertools' own variables. */
export const logger = new Logger({ serviceName: 'waymark' });
export const metrics = new Metrics({ namespace: 'Waymark', serviceName: 'waymark' });

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
