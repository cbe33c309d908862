import type { LocalStack } from '../../lambdas/local/stack';

export interface HttpReply {
  status: number;
  contentType: string | null;
  /** Parsed JSON (any: each test reads the shape it expects), or undefined for an empty body. */
  body: any;
}

/** Calls the local REST API; a string body is sent as is (to send malformed JSON), anything else as JSON. */
export async function call(stack: LocalStack, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<HttpReply> {
  const response = await fetch(`${stack.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, contentType: response.headers.get('content-type'), body: text === '' ? undefined : JSON.parse(text) };
}

/** The fields a problem+json response names. */
export const problemFields = (reply: HttpReply): string[] => (reply.body?.errors ?? []).map((e: { field: string }) => e.field);
