import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import { logger, tracerMiddleware } from '../shared/powertools';
import { problemMiddleware, type ApiEvent, type ApiResult } from '../shared/http';

/**
 * Wraps a handler with Powertools: logger, and tracer where bundled. A handler that emits metrics uses `withMetrics`
 * (./metrics-middleware.ts) instead: here, the metrics package would be in every bundle.
 */
export function withPowertools<TEvent, TResult>(fn: (event: TEvent, context: Context) => Promise<TResult>) {
  let wrapped = middy(fn).use(injectLambdaContext(logger));
  const tracing = tracerMiddleware();
  if (tracing) wrapped = wrapped.use(tracing);
  return wrapped;
}

/** API Gateway handlers: Powertools plus problem+json for client errors. */
export function apiHandler(fn: (event: ApiEvent, context: Context) => Promise<ApiResult>) {
  return withPowertools<ApiEvent, ApiResult>(fn).use(problemMiddleware((error) => logger.error('unexpected error', error as Error)));
}
