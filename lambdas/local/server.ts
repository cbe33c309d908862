import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Context } from 'aws-lambda';
import type { ApiEvent, ApiResult } from '../shared/http';
import { problem } from '../shared/http';
import type { LocalBus, PutEventsEntry } from './bus';

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

const context = (name: string): Context =>
  ({ functionName: name, awsRequestId: randomUUID(), getRemainingTimeInMillis: () => 29_000, callbackWaitsForEmptyEventLoop: false }) as Context;

/**
 * One port for the local platform: the EventBridge `PutEvents` endpoint (AWS JSON 1.1 protocol, selected by the
 * `X-Amz-Target` header, so the official SDK client works with `endpoint` set), the REST API and `/local/*` routes.
 */
export function createLocalServer(bus: LocalBus, routes: readonly Route[]): Server {
  const table = routes.map((r) => ({ ...r, regex: compile(r.path) }));
  return createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const body = await readBody(req);
      const target = req.headers['x-amz-target'];
      if (req.method === 'POST' && typeof target === 'string') {
        if (target !== 'AWSEvents.PutEvents') {
          send(res, { statusCode: 400, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify({ __type: 'UnknownOperationException', message: `${target} is not supported locally` }) });
          return;
        }
        let request: { Entries?: PutEventsEntry[] };
        try {
          request = JSON.parse(body) as { Entries?: PutEventsEntry[] };
        } catch {
          send(res, { statusCode: 400, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify({ __type: 'SerializationException', message: 'body is not JSON' }) });
          return;
        }
        const entries = request.Entries ?? [];
        if (entries.length < 1 || entries.length > 10) {
          send(res, { statusCode: 400, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify({ __type: 'ValidationException', message: 'Entries must hold 1 to 10 entries' }) });
          return;
        }
        send(res, { statusCode: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify(bus.putEvents(entries)) });
        return;
      }
      for (const route of table) {
        const match = route.method === req.method ? route.regex.exec(url.pathname) : null;
        if (!match) continue;
        const event: ApiEvent = {
          body: body === '' ? null : body,
          headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v])),
          pathParameters: match.groups ? { ...match.groups } : null,
          queryStringParameters: url.searchParams.size > 0 ? Object.fromEntries(url.searchParams) : null,
          requestContext: { requestId: randomUUID() },
        };
        send(res, await route.handler(event, context(`${route.method} ${route.path}`)));
        return;
      }
      send(res, problem(404, 'Not Found', `no route for ${req.method} ${url.pathname}`));
    } catch (error) {
      const status = (error as { status?: number }).status ?? 500;
      send(res, problem(status, status === 413 ? 'Payload Too Large' : 'Internal Server Error', (error as Error).message));
    }
  });
}
