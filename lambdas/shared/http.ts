import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { FieldError } from '../core/events/business-event';
import { ConflictError, NotFoundError, ValidationError } from '../core/runtime/errors';

export type ApiEvent = Pick<APIGatewayProxyEvent, 'body' | 'pathParameters' | 'queryStringParameters' | 'headers'> & {
  requestContext: { requestId: string };
};
export type ApiResult = APIGatewayProxyResult;

export function json(statusCode: number, body: unknown): ApiResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** RFC 9457 problem details; `errors` names each offending field. */
export function problem(status: number, title: string, detail: string, errors?: FieldError[]): ApiResult {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/problem+json' },
    body: JSON.stringify({ type: 'about:blank', title, status, detail, ...(errors ? { errors } : {}) }),
  };
}

/** Parses a JSON request body; a malformed body is the client's mistake (400), an empty one is `undefined`. */
export function parseJsonBody(event: Pick<ApiEvent, 'body'>): unknown {
  if (event.body === null || event.body === undefined || event.body === '') return undefined;
  try {
    return JSON.parse(event.body);
  } catch (error) {
    throw new ValidationError('the request body is not valid JSON', [{ field: '(body)', message: (error as Error).message }]);
  }
}

/** Maps typed client errors to problem+json responses; anything else is ours (500) and is rethrown for logging. */
/**
 * Validation messages shaped `<path>: <message>` (the segment and offer parsers', the catalog checks') as field errors;
 * the body itself (an empty path or `(root)`) is `(body)`.
 */
export function fieldErrorsFromMessages(messages: readonly string[]): FieldError[] {
  return messages.map((text) => {
    const at = text.indexOf(': ');
    const field = at < 0 ? '' : text.slice(0, at);
    return { field: field === '' || field === '(root)' ? '(body)' : field, message: at < 0 ? text : text.slice(at + 2) };
  });
}

export function errorToProblem(error: unknown): ApiResult | undefined {
  if (error instanceof ValidationError) return problem(400, 'Bad Request', error.message, error.errors);
  if (error instanceof NotFoundError) return problem(404, 'Not Found', error.message);
  if (error instanceof ConflictError) return problem(409, 'Conflict', error.message, error.errors);
  return undefined;
}

export function problemMiddleware(onUnexpected: (error: unknown) => void): MiddlewareObj<ApiEvent, ApiResult> {
  return {
    onError: async (request) => {
      const mapped = errorToProblem(request.error);
      if (mapped) {
        request.response = mapped;
        return;
      }
      onUnexpected(request.error);
      request.response = problem(500, 'Internal Server Error', 'an unexpected error occurred; it has been logged');
    },
  };
}
