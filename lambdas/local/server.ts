import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Context } from 'aws-lambda';
import type { ApiEvent, ApiResult } from '../shared/http';
import { problem } from '../shared/http';
import { parsePutEventsRequest, PutEventsRequestError, type LocalBus } from './bus';

export type ApiRoute = (event: ApiEvent, context: Context) => Promise<ApiResult>;

export interface Route {
  method: string;
  /** A path template such as `/journeys/{id}/trigger`. */
  path: string;
  handler: ApiRoute;
}

const MAX_BODY_BYTES = 1024 * 1024;

function compile(path: string): RegExp {
  return new RegExp(`^${path.replace(/\{(\w+)\}/g, '(?<$1>[^/]+)')}$`);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw Object.assign(new Error('request body too large'), { status: 413 });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, result: ApiResult): void {
  res.writeHead(result.statusCode, { 'content-type': 'application/json', ...(result.headers as Record<string, string>) });
  res.end(result.body);
}

const AMZ_JSON = { 'content-type': 'application/x-amz-json-1.1' };

/** `AWSEvents.PutEvents`: a refused request answers EventBridge's error shape, never an internal message. */
function putEvents(bus: LocalBus, body: string): ApiResult {
  try {
    return { statusCode: 200, headers: AMZ_JSON, body: JSON.stringify(bus.putEvents(parsePutEventsRequest(body))) };
  } catch (error) {
    const awsError = (statusCode: number, __type: string, message: string) => ({ statusCode, headers: AMZ_JSON, body: JSON.stringify({ __type, message }) });
    if (error instanceof PutEventsRequestError) return awsError(400, error.type, error.message);
    console.error('PutEvents failed', error);
    return awsError(500, 'InternalException', 'an internal error occurred');
  }
}

/** API Gateway passes path parameters decoded; a malformed escape is the client's mistake. */
function decodePathParameters(groups: Record<string, string>): Record<string, string> | undefined {
  try {
    return Object.fromEntries(Object.entries(groups).map(([name, value]) => [name, decodeURIComponent(value)]));
  } catch {
    return undefined;
  }
}

const context = (name: string): Context =>
  ({ functionName: name, awsRequestId: randomUUID(), getRemainingTimeInMillis: () => 29_000, callbackWaitsForEmptyEventLoop: false }) as Context;

/** A request to the routes, in process or from the HTTP server. */
export interface LocalRequest {
  method: string;
  /** The path, without the query string. */
  path: string;
  query?: Record<string, string>;
  body?: string | null;
  headers?: Record<string, string | undefined>;
}

/** Matches a request to its route and answers it as API Gateway would call the handler (404 when no route matches). */
export function createRouter(routes: readonly Route[]): (request: LocalRequest) => Promise<ApiResult> {
  const table = routes.map((r) => ({ ...r, regex: compile(r.path) }));
  return async (request) => {
    for (const route of table) {
      const match = route.method === request.method ? route.regex.exec(request.path) : null;
      if (!match) continue;
      const pathParameters = match.groups ? decodePathParameters(match.groups) : null;
      if (pathParameters === undefined) {
        const errors = [{ field: '(path)', message: 'not valid percent-encoding' }];
        return problem(400, 'Bad Request', 'a path parameter is not valid percent-encoding', errors);
      }
      const query = request.query ?? {};
      const event: ApiEvent = {
        body: request.body === undefined || request.body === '' ? null : request.body,
        headers: request.headers ?? {},
        pathParameters,
        queryStringParameters: Object.keys(query).length > 0 ? query : null,
        requestContext: { requestId: randomUUID() },
      };
      return route.handler(event, context(`${route.method} ${route.path}`));
    }
    return problem(404, 'Not Found', `no route for ${request.method} ${request.path}`);
  };
}

/**
 * One port for the local platform: the EventBridge `PutEvents` endpoint (AWS JSON 1.1 protocol, selected by the
 * `X-Amz-Target` header, so the official SDK client works with `endpoint` set), the REST API and `/local/*` routes.
 */
export function createLocalServer(bus: LocalBus, routes: readonly Route[]): Server {
  const route = createRouter(routes);
  return createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const body = await readBody(req);
      const target = req.headers['x-amz-target'];
      if (req.method === 'POST' && typeof target === 'string') {
        if (target !== 'AWSEvents.PutEvents') {
          send(res, { statusCode: 400, headers: AMZ_JSON, body: JSON.stringify({ __type: 'UnknownOperationException', message: `${target} is not supported locally` }) });
          return;
        }
        send(res, putEvents(bus, body));
        return;
      }
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v]));
      send(res, await route({ method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), body, headers }));
    } catch (error) {
      const status = (error as { status?: number }).status ?? 500;
      if (status !== 413) console.error('local server error', error);
      // Internal messages stay in the log; the client learns what it can act on.
      send(
        res,
        status === 413
          ? problem(413, 'Payload Too Large', (error as Error).message, [{ field: '(body)', message: `at most ${MAX_BODY_BYTES} bytes` }])
          : problem(500, 'Internal Server Error', 'an unexpected error occurred; it has been logged'),
      );
    }
  });
}
