import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { FieldError } from '../core/events/business-event';
import { ConflictError, InvalidCursorError, NotFoundError, ValidationError } from '../core/runtime/errors';

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

/**
 * The bounds every API request is held to, in the handlers (so they hold on AWS, where API Gateway's REST API lets
 * 10 MB through, and locally). Path ids: DynamoDB keys are at most 2048 bytes (partition) and 1024 bytes (sort)
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html); 256 UTF-16 units are at most
 * 768 UTF-8 bytes, which leaves room for the key prefixes.
 */
export const REQUEST_LIMITS = {
  /** Request body, in UTF-8 bytes (413 beyond). EventBridge takes 256 KB per PutEvents request. */
  bodyBytes: 256 * 1024,
  /** Nesting of objects and arrays in a JSON body (DynamoDB stores at most 32 levels). */
  jsonDepth: 32,
  /** Length of an object key in a JSON body. */
  keyLength: 256,
  /** Length of a string value in a JSON body (fields with tighter bounds of their own name them first). */
  stringLength: 128 * 1024,
  /** Length of a path parameter (`/profiles/{id}`, `/segments/{id}/snapshots/{snapshotId}`). */
  pathIdLength: 256,
  /** Length of a query-string value. */
  queryValueLength: 4096,
} as const;
export const MAX_PATH_ID_LENGTH = REQUEST_LIMITS.pathIdLength;

/** The body is larger than the API takes: 413 naming `(body)`. */
export class PayloadTooLargeError extends Error {
  override readonly name = 'PayloadTooLargeError';
}

const fieldPath = (path: readonly (string | number)[]) =>
  path.reduce<string>((at, key) => (typeof key === 'number' ? `${at}[${key}]` : at === '' ? key : `${at}.${key}`), '') || '(body)';

/**
 * The first place where a parsed JSON value breaks the depth, key or string bounds, with its path; iterative, so a
 * value nested 100,000 deep cannot overflow the stack of the check (or of what would read it next).
 */
export function jsonBoundsError(
  value: unknown,
  bounds: { jsonDepth: number; keyLength: number; stringLength: number } = REQUEST_LIMITS,
): FieldError | undefined {
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: at, path } = stack.pop()!;
    if (typeof at === 'string' && at.length > bounds.stringLength) {
      return { field: fieldPath(path), message: `strings are at most ${bounds.stringLength} characters` };
    }
    if (at === null || typeof at !== 'object') continue;
    if (path.length >= bounds.jsonDepth) return { field: fieldPath(path), message: `nested deeper than ${bounds.jsonDepth} levels` };
    if (Array.isArray(at)) {
      at.forEach((item, i) => stack.push({ value: item, path: [...path, i] }));
      continue;
    }
    for (const key of Object.keys(at)) {
      if (key.length > bounds.keyLength) {
        return { field: fieldPath(path), message: `keys are at most ${bounds.keyLength} characters (one is ${key.length})` };
      }
      stack.push({ value: (at as Record<string, unknown>)[key], path: [...path, key] });
    }
  }
  return undefined;
}

/**
 * Parses a JSON request body; a malformed body, or one past the depth, key or string bounds, is the client's mistake
 * (400 naming the field), an empty one is `undefined`.
 */
export function parseJsonBody(event: Pick<ApiEvent, 'body'>): unknown {
  if (event.body === null || event.body === undefined || event.body === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(event.body);
  } catch (error) {
    throw new ValidationError('the request body is not valid JSON', [{ field: '(body)', message: (error as Error).message }]);
  }
  const bounds = jsonBoundsError(value);
  if (bounds) throw new ValidationError('the request body is past the API\'s bounds', [bounds]);
  return value;
}

const tooLong = (field: string, max: number) => new ValidationError(`${field} is too long`, [{ field, message: `at most ${max} characters` }]);

/**
 * Every API request's size, path parameters and query values against `REQUEST_LIMITS`, before the handler reads them:
 * 413 for the body, 400 naming the parameter otherwise.
 */
export function requestBoundsError(
  event: Pick<ApiEvent, 'body' | 'pathParameters' | 'queryStringParameters'>,
): Error | undefined {
  if (event.body && Buffer.byteLength(event.body, 'utf8') > REQUEST_LIMITS.bodyBytes) {
    return new PayloadTooLargeError(`the request body is larger than ${REQUEST_LIMITS.bodyBytes / 1024} KB`);
  }
  for (const [name, value] of Object.entries(event.pathParameters ?? {})) {
    if (value !== undefined && value.length > REQUEST_LIMITS.pathIdLength) {
      return tooLong(name, REQUEST_LIMITS.pathIdLength);
    }
  }
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (value !== undefined && value.length > REQUEST_LIMITS.queryValueLength) {
      return tooLong(name, REQUEST_LIMITS.queryValueLength);
    }
  }
  return undefined;
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
  // A cursor no page returned (tampered, another profile's, not base64): the client's mistake on every route.
  if (error instanceof InvalidCursorError) {
    return problem(400, 'Bad Request', error.message, [{ field: 'cursor', message: 'the value returned with the previous page' }]);
  }
  if (error instanceof PayloadTooLargeError) {
    return problem(413, 'Payload Too Large', error.message, [{ field: '(body)', message: `at most ${REQUEST_LIMITS.bodyBytes} bytes` }]);
  }
  if (error instanceof NotFoundError) return problem(404, 'Not Found', error.message);
  if (error instanceof ConflictError) return problem(409, 'Conflict', error.message, error.errors);
  return undefined;
}

export function problemMiddleware(onUnexpected: (error: unknown) => void): MiddlewareObj<ApiEvent, ApiResult> {
  return {
    before: async (request) => {
      const bounds = requestBoundsError(request.event);
      if (bounds) throw bounds;
    },
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
