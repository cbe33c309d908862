import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack, type LocalStack } from '../lambdas/local/stack';
import { withBaseline, type Benchmark, type Figure } from './types';

/**
 * Decisions through the local stack's HTTP API (issue D5): autocannon on loopback against `POST /decisions`, cycling
 * through PROFILES profiles created with PutEvents, against the shipped catalog (offers/ and placements/: cart-discount
 * and free-shipping have per-profile caps, so after a profile's first decisions they are capped and the decision moves
 * on to the next offer or the fallback — still a 200). Caps are reserved in dynalite through the DynamoDB cap store and
 * every decision is appended to the decision log, as on AWS.
 *
 * autocannon runs in a worker thread (`workers: 1`), so the load generator does not share the server's event loop; its
 * per-request body comes from a small generated module (worker threads cannot receive functions).
 *
 * Baseline in the same run: the same load against `GET /health` (the HTTP server and routing, no work): the floor.
 */
/** The part of autocannon's programmatic API used here (the package ships no types). */
interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  /** With workers: the absolute path of a module exporting `(request) => request`. */
  setupRequest?: string;
}
interface LoadOptions {
  url: string;
  connections: number;
  duration?: number;
  amount?: number;
  workers?: number;
  headers?: Record<string, string>;
  requests: LoadRequest[];
}
interface Result {
  duration: number;
  requests: { total: number; average: number };
  latency: { p50: number; p99: number; average: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (options: LoadOptions) => Promise<Result>;

const PROFILES = Number(process.env.BENCH_DECISION_PROFILES ?? 500);
const SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_HTTP_CONNECTIONS ?? 10);
const PLACEMENTS = ['email-hero', 'push', 'web-banner'];

async function createProfiles(stack: LocalStack): Promise<string[]> {
  const client = new EventBridgeClient({ endpoint: stack.url, region: 'local', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
  const email = (i: number) => `decide-${i}@bench.example`;
  // Every profile views a page; most order (accessory-bundle; a few spend enough for loyalty-gold); half update a cart
  // (cart-discount, capped once per 30 days); a quarter are gold by attribute (loyalty-gold → gold-double-points).
  const entries: { type: string; detail: Record<string, unknown> }[] = [];
  for (let i = 0; i < PROFILES; i++) {
    entries.push({ type: 'page.viewed', detail: { id: `pv-${i}`, identities: { email: email(i) }, attributes: { firstName: `D${i}`, ...(i % 4 === 0 ? { loyaltyTier: 'gold' } : {}) }, properties: { url: '/cameras' } } });
    if (i % 5 !== 0) entries.push({ type: 'order.placed', detail: { id: `op-${i}`, identities: { email: email(i) }, properties: { orderId: `o-${i}`, total: i % 10 === 1 ? 1200 : 40 + (i % 90) } } });
    if (i % 2 === 0) entries.push({ type: 'cart.updated', detail: { id: `cu-${i}`, identities: { email: email(i) }, properties: { action: 'item-removed', cartId: `c-${i}`, productIds: [`sku-${i}`], itemCount: 0 } } });
  }
  // Profiles first (one page view each), then the rest, so no two events of one profile race to create it.
  const first = entries.filter((e) => e.type === 'page.viewed');
  const rest = entries.filter((e) => e.type !== 'page.viewed');
  for (const batch of [first, rest]) {
    const chunks: (typeof entries)[] = [];
    for (let i = 0; i < batch.length; i += 10) chunks.push(batch.slice(i, i + 10));
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < chunks.length) {
          const chunk = chunks[next++];
          const out = await client.send(new PutEventsCommand({ Entries: chunk.map((e) => ({ Source: 'bench.shop', DetailType: e.type, Detail: JSON.stringify(e.detail) })) }));
          if (out.FailedEntryCount) throw new Error(`decisions-http bench: PutEvents failed: ${JSON.stringify(out.Entries?.find((x) => x.ErrorCode))}`);
        }
      }),
    );
    await stack.settle();
  }
  client.destroy();
  const ids: string[] = [];
  for (let i = 0; i < PROFILES; i++) {
    const profile = await stack.profiles.findByIdentity('email', email(i));
    if (!profile) throw new Error(`decisions-http bench: no profile for ${email(i)} after ingestion`);
    ids.push(profile.id);
  }
  return ids;
}

async function load(url: string, request: LoadRequest): Promise<Result> {
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: SECONDS,
    workers: 1,
    headers: { 'content-type': 'application/json' },
    requests: [request],
  });
  if (result.errors > 0 || result.timeouts > 0) throw new Error(`decisions-http bench: ${request.method} ${request.path}: ${result.errors} errors, ${result.timeouts} timeouts`);
  return result;
}

/** autocannon measures whole milliseconds, so /health often has a p50 of 0: no ratio then (it would be Infinity). */
const latency = (name: string, value: number, baseline: number): Figure =>
  baseline > 0 ? withBaseline({ name, value, unit: 'ms', baseline, note: 'autocannon latency (whole ms), same run; baseline GET /health' }) : { name, value, unit: 'ms', baseline, note: 'autocannon latency (whole ms), same run; baseline GET /health (under 1 ms, so no ratio)' };

const figures = (result: Result) => ({ rate: Math.round(result.requests.total / result.duration), p50: result.latency.p50, p99: result.latency.p99 });

export const decisionsHttp: Benchmark = {
  name: 'decisions-http',
  async run(): Promise<Figure[]> {
    const stack = await startLocalStack({ port: 0, timeScale: Number.POSITIVE_INFINITY });
    const dir = mkdtempSync(join(tmpdir(), 'waymark-decisions-http-'));
    try {
      const ids = await createProfiles(stack);
      // The worker thread requires this module: each request asks for the next profile, all three placements.
      const setupRequest = join(dir, 'setup-request.js');
      writeFileSync(
        setupRequest,
        `const ids = ${JSON.stringify(ids)};\nlet next = 0;\nmodule.exports = (request) => ({ ...request, body: JSON.stringify({ profileId: ids[next++ % ids.length], placements: ${JSON.stringify(PLACEMENTS)}, count: 1, context: { category: 'camera', cartTotal: 120 } }) });\n`,
      );
      const decide = { method: 'POST' as const, path: '/decisions', setupRequest };

      // Warm-up: compile paths, load the catalog cache, JIT; uses up the first caps as real traffic would have.
      await autocannon({ url: stack.url, connections: CONNECTIONS, amount: 2_000, workers: 1, headers: { 'content-type': 'application/json' }, requests: [decide] });
      await autocannon({ url: stack.url, connections: CONNECTIONS, amount: 2_000, workers: 1, requests: [{ method: 'GET', path: '/health' }] });

      const decisions = await load(stack.url, decide);
      const health = await load(stack.url, { method: 'GET', path: '/health' });
      if (decisions.non2xx > 0 || health.non2xx > 0) throw new Error(`decisions-http bench: non-2xx responses: ${decisions.non2xx} to POST /decisions, ${health.non2xx} to GET /health`);
      if (decisions['2xx'] === 0) throw new Error('decisions-http bench: no successful decisions');

      // What the decisions looked like (caps on: some placements fall back), read back from the decision log.
      const sample = await (await fetch(`${stack.url}/profiles/${encodeURIComponent(ids[0])}/decisions?limit=100`)).json() as { decisions: { placements: Record<string, { fallback: boolean; explanation: { capped?: string }[] }> }[] };
      const placements = sample.decisions.flatMap((d) => Object.values(d.placements));
      const capped = placements.filter((p) => p.explanation.some((l) => l.capped)).length;
      const fallbacks = placements.filter((p) => p.fallback).length;

      const d = figures(decisions);
      const h = figures(health);
      const how = `autocannon (worker thread) on loopback, ${CONNECTIONS} connections, ${SECONDS} s, against the local stack (dynalite, caps reserved in the DynamoDB cap store, each decision appended to the decision log); POST /decisions for ${PROFILES} profiles in turn, 3 placements × 1 offer, shipped catalog (5 offers, 2 with per-profile caps, 1 fallback); ${decisions.requests.total.toLocaleString('en')} decisions, ${decisions.non2xx} non-2xx; in the last ${placements.length} placement decisions of one profile, ${capped} hit a cap and ${fallbacks} fell back`;
      const base = `Baseline: the same load on GET /health (${health.requests.total.toLocaleString('en')} requests, ${health.non2xx} non-2xx), the HTTP + routing floor`;
      return [
        withBaseline({ name: 'decisions-http/requests-per-second', value: d.rate, unit: 'req/s', baseline: h.rate, note: `${how}. ${base}` }),
        latency('decisions-http/p50', d.p50, h.p50),
        latency('decisions-http/p99', d.p99, h.p99),
        { name: 'decisions-http/non-2xx', value: decisions.non2xx, unit: 'responses', note: 'POST /decisions responses other than 2xx during the measured run (must be 0; fallbacks are 200)' },
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await stack.stop();
    }
  },
};
