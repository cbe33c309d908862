import { createHash, createHmac } from 'node:crypto';

/**
 * The CLI's HTTP client for the Waymark API (`waymark report` and `waymark why`): a GET, SigV4 headers for a deployed
 * API, and which API to call.
 */

/** What the CLI needs from HTTP: a GET answering status and body. */
export type HttpGet = (url: URL, headers: Record<string, string>) => Promise<{ status: number; body: string }>;

/** SigV4 headers for a request to `url` on a deployed API in `region` (a GET unless `request` says otherwise). */
export type Signer = (url: URL, region: string, request?: { method: string; body?: string }) => Promise<Record<string, string>>;

/** Any method with an optional body (`waymark campaigns run`, `pause`...). */
export type HttpRequest = (
  method: string,
  url: URL,
  headers: Record<string, string>,
  body?: string,
) => Promise<{ status: number; body: string }>;

export const LOCAL_API = `http://localhost:${process.env.PORT ?? 3000}`;

/** The API a command calls: `--api`, else `WAYMARK_API_URL`, else the local stack. */
export function apiBase(explicit: string | undefined, env: Record<string, string | undefined> = process.env): string {
  return explicit ?? (env.WAYMARK_API_URL || undefined) ?? LOCAL_API;
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);
export const isLocal = (url: URL) => LOCAL_HOSTS.has(url.hostname);

/** The region of an API Gateway URL (`<id>.execute-api.<region>.amazonaws.com`), else the environment's. */
export function regionOf(url: URL): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(url.hostname)?.[1] ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
}

/** SHA-256 for @smithy/signature-v4 (its Checksum shape), from node:crypto. */
type Data = string | ArrayBuffer | ArrayBufferView;
const bytes = (data: Data) => (typeof data === 'string' ? data : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data));

class Sha256 {
  private readonly hash;
  constructor(secret?: Data) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: Data): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {}
}

/**
 * Headers signed with SigV4 for API Gateway (`execute-api`), with the standard AWS credential chain (environment,
 * shared config and SSO, instance or container role): the deployed API authorizes every route with IAM.
 */
export const signedHeaders: Signer = async (url, region, request) => {
  // Loaded only to sign: the local stack needs neither.
  const { SignatureV4 } = require('@smithy/signature-v4') as typeof import('@smithy/signature-v4');
  const { defaultProvider } = require('@aws-sdk/credential-provider-node') as typeof import('@aws-sdk/credential-provider-node');
  const signer = new SignatureV4({ service: 'execute-api', region, credentials: defaultProvider(), sha256: Sha256 });
  const query: Record<string, string> = {};
  url.searchParams.forEach((value, key) => (query[key] = value));
  const method = request?.method ?? 'GET';
  const headers: Record<string, string> = { host: url.host };
  if (request?.body !== undefined) headers['content-type'] = 'application/json';
  const signed = await signer.sign({ method, protocol: url.protocol, hostname: url.hostname, port: url.port ? Number(url.port) : undefined, path: url.pathname, query, headers, ...(request?.body === undefined ? {} : { body: request.body }) });
  return signed.headers as Record<string, string>;
};

export const httpGet: HttpGet = async (url, headers) => {
  const response = await fetch(url, { headers });
  return { status: response.status, body: await response.text() };
};

export const httpRequest: HttpRequest = async (method, url, headers, body) => {
  const response = await fetch(url, { method, headers, ...(body === undefined ? {} : { body }) });
  return { status: response.status, body: await response.text() };
};
