import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { countRequests, createDynamoProfileStore } from '../lambdas/adapters/dynamodb-profiles';
import { BusinessEvent } from '../lambdas/core/events/business-event';
import { ingestEvent } from '../lambdas/core/profiles/ingest';
import { MemoryProfileStorage } from '../lambdas/core/profiles/memory-storage';
import { defaultProfilePolicy } from '../lambdas/core/profiles/model';
import { startDynalite } from '../lambdas/local/dynalite';
import { withBaseline, type Benchmark, type Figure } from './types';

const EVENTS = Number(process.env.BENCH_PROFILE_EVENTS ?? 20_000);
const DYNAMO_EVENTS = Number(process.env.BENCH_PROFILE_DYNAMO_EVENTS ?? 2_000);
const CONCURRENCY = 32;
const CUSTOMERS = 2_000;
const clock = { now: () => new Date('2026-03-01T12:00:00.000Z') };

/**
 * A realistic mix as JSON text (what the handler receives): most events from known customers by email, 10% from an
 * anonymous device, 5% a login that links the device to the email (a merge the first time).
 */
function workload(count: number, run: string): string[] {
  return Array.from({ length: count }, (_, i) => {
    const customer = (i * 7919) % CUSTOMERS;
    const kind = i % 20;
    const identities = kind === 0 ? { email: `${run}-${customer}@example.com`, deviceId: `${run}-dev-${customer}` } : kind < 3 ? { deviceId: `${run}-dev-${customer}` } : { email: `${run}-${customer}@example.com` };
    const order = i % 4 === 0;
    return JSON.stringify({
      id: `${run}-${i}`,
      type: kind === 0 ? 'app.login' : order ? 'order.placed' : 'page.viewed',
      source: 'bench.shop',
      time: new Date(Date.parse('2026-02-01T00:00:00.000Z') + i * 60_000).toISOString(),
      identities,
      attributes: order ? { tier: ['bronze', 'silver', 'gold'][i % 3], lastOrderId: `o-${i}` } : undefined,
      consent: i % 50 === 0 ? { email: 'opted-in' } : undefined,
      properties: order ? { total: (i % 200) + 0.5, items: (i % 5) + 1, currency: 'EUR' } : { path: `/p/${i % 300}` },
    });
  });
}

function bestOf<T>(runs: number, body: () => T): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    body();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

async function bestOfAsync(runs: number, body: (run: number) => Promise<void>): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await body(i);
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

const perSecond = (events: number, ms: number) => Number(((events * 1000) / ms).toFixed(0));

export const ingestion: Benchmark = {
  name: 'ingestion',
  async run() {
    const figures: Figure[] = [];

    // (a) The core pipeline over the in-memory store, one core, against the floor: parsing and validating the same events.
    const texts = workload(EVENTS, 'mem');
    const baselineMs = bestOf(5, () => {
      for (const text of texts) BusinessEvent.parse(JSON.parse(text));
    });
    const pipelineMs = await bestOfAsync(5, async () => {
      const deps = { storage: new MemoryProfileStorage(clock.now), clock, policy: defaultProfilePolicy };
      for (const text of texts) await ingestEvent(deps, BusinessEvent.parse(JSON.parse(text)));
    });
    figures.push(
      withBaseline({
        name: 'ingestion/core-pipeline-in-memory',
        value: perSecond(EVENTS, pipelineMs),
        unit: 'events/s',
        baseline: perSecond(EVENTS, baselineMs),
        note: `${EVENTS} events (${CUSTOMERS} customers, 10% anonymous device, 5% device↔email links): JSON.parse → zod → resolve → merge → computed, in-memory store (copies values in and out like a remote store); baseline: JSON.parse + zod only; best of 5`,
      }),
    );

    const dynamo = await startDynalite(['bench-profiles']);
    try {
      const requests = countRequests(dynamo.client);
      const db = DynamoDBDocumentClient.from(dynamo.client, { marshallOptions: { removeUndefinedValues: true } });
      const store = createDynamoProfileStore(db, 'bench-profiles', { clock });
      const event = (id: string, identities: Record<string, string>, time: string): BusinessEvent => ({ id, type: 'order.placed', source: 'bench', time, identities, properties: { total: 10 } });

      // (b) DynamoDB requests per ingested event, counted at the SDK client.
      const measure = async (name: string, note: string, body: () => Promise<unknown>) => {
        requests.reset();
        await body();
        figures.push({ name: `ingestion/dynamodb-requests/${name}/reads`, value: requests.counts.reads, unit: 'requests', note });
        figures.push({ name: `ingestion/dynamodb-requests/${name}/writes`, value: requests.counts.writes, unit: 'requests', note: `${note}; target for known-profile: ≤ 1 read, ≤ 2 writes` });
      };
      await store.ingest(event('known-0', { email: 'known@example.com' }, '2026-02-01T00:00:00.000Z'));
      await measure('known-profile', 'an event for a profile known by its one identity', () => store.ingest(event('known-1', { email: 'known@example.com' }, '2026-02-02T00:00:00.000Z')));
      await measure('new-profile', 'an event whose one identity is unknown', () => store.ingest(event('new-0', { email: 'new@example.com' }, '2026-02-02T00:00:00.000Z')));
      await store.ingest(event('merge-0', { deviceId: 'merge-device' }, '2026-02-01T00:00:00.000Z'));
      await store.ingest(event('merge-1', { email: 'merge@example.com' }, '2026-02-02T00:00:00.000Z'));
      await measure('two-profile-merge', 'an event linking two profiles, the absorbed one with one identity and one event', () =>
        store.ingest(event('merge-2', { email: 'merge@example.com', deviceId: 'merge-device' }, '2026-02-03T00:00:00.000Z')),
      );

      // (c) Through dynalite, the adapter called directly by concurrent workers (as concurrent Lambda invocations would).
      const parsed = workload(DYNAMO_EVENTS, 'ddb').map((text) => BusinessEvent.parse(JSON.parse(text)));
      requests.reset();
      let next = 0;
      const start = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < parsed.length) await store.ingest(parsed[next++]);
        }),
      );
      const ms = performance.now() - start;
      figures.push({
        name: 'ingestion/dynalite-events-per-second',
        value: perSecond(DYNAMO_EVENTS, ms),
        unit: 'events/s',
        note: `${DYNAMO_EVENTS} events of the same mix, ${CONCURRENCY} concurrent ingests, dynalite in its own process; ${((requests.counts.reads + requests.counts.writes) / DYNAMO_EVENTS).toFixed(2)} requests/event overall`,
      });
    } finally {
      await dynamo.stop();
    }
    return figures;
  },
};
