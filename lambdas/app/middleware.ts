import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context } from 'aws-lambda';
import { logger, metrics, tracerMiddleware } from '../shared/powertools';
import { problemMiddleware, type ApiEvent, type ApiResult } from '../shared/http';

/** Wraps a handler with Powertools: logger and tracer, and the metrics flush for handlers that emit metrics. */
export function withPowertools<TEvent, TResult>(fn: (event: TEvent, context: Context) => Promise<TResult>, options: { emitsMetrics?: boolean } = {}) {
  let wrapped = middy(fn).use(injectLambdaContext(logger));
  const tracing = tracerMiddleware();
  if (tracing) wrapped = wrapped.use(tracing);
  return options.emitsMetrics ? wrapped.use(logMetrics(metrics)) : wrapped;
}

/** API Gateway handlers: Powertools plus problem+json for client errors. */
export function apiHandler(fn: (event: ApiEvent, context: Context) => Promise<ApiResult>, options: { emitsMetrics?: boolean } = {}) {
  return withPowertools<ApiEvent, ApiResult>(fn, options).use(problemMiddleware((error) => logger.error('unexpected error', error as Error)));
}
