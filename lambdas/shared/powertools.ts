import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

/** Built once per module (per container). Locally the stack turns metrics and tracing off through Powertools' own variables. */
export const logger = new Logger({ serviceName: 'waymark' });
export const metrics = new Metrics({ namespace: 'Waymark', serviceName: 'waymark' });
export const tracer = new Tracer({ serviceName: 'waymark' });
