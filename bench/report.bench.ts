import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoJourneyCounters } from '../lambdas/adapters/dynamodb-counters';
import { COUNTER, type CounterIncrement } from '../lambdas/core/measure/counters';
import { COUNTER_SHARDS, counterPartitionKey, counterSortKey, daysBetween } from '../lambdas/core/measure/keys';
import { buildReport } from '../lambdas/core/measure/report';
import type { Journey } from '../lambdas/core/journey/schema';
import { startDynalite } from '../lambdas/local/dynalite';
import { mulberry32 } from './random';
import { type Benchmark, type Figure, withBaseline } from './types';

/**
 * `GET /journeys/{id}/report` for a journey with 1 million entries' worth of counters (REPORT_BENCH_DAYS days, 3 send
 * nodes, a journey holdout and a 3-way split with a holdout, every outcome, reason and engagement counter), each
 * counter spread over all 16 shards, in dynalite: the report (read + statistics) against the same read alone.
 */
const ENTRIES = 1_000_000;
const DAYS = Number(process.env.REPORT_BENCH_DAYS ?? 30);
const RUNS = 5;
const TABLE = 'bench-runtime';
const JOURNEY = 'bench-journey';

const journey = {
  schemaVersion: 1,
  id: JOURNEY,
  name: 'Bench',
  entry: { kind: 'api' },
  settings: { reentry: 'never', timeout: '91d', messageClass: 'marketing', holdout: { percent: 5 } },
  goal: { event: 'order.placed', within: '7d' },
  start: 'pick',
  nodes: [
    { id: 'pick', kind: 'split', variants: ['a', 'b', 'c'].map((id) => ({ id, weight: 30, next: 'first' })), holdout: { weight: 10 } },
    { id: 'first', kind: 'send', channel: 'email', template: { subject: 's', text: 't' }, next: 'second' },
    { id: 'second', kind: 'send', channel: 'sms', template: { body: 'b' }, next: 'third' },
    { id: 'third', kind: 'send', channel: 'push', template: { title: 't', body: 'b' }, next: 'done' },
    { id: 'done', kind: 'exit' },
  ],
} as unknown as Journey;

/** A day's counters for `entries` entries (values roughly as a real journey's). */
function dayCounters(day: string, entries: number): CounterIncrement[] {
  const c = (name: CounterIncrement['name'], by: number, dims?: CounterIncrement['dims']): CounterIncrement => ({ journeyId: JOURNEY, day, name, by: Math.round(by), ...(dims ? { dims } : {}) });
  const out = [c(COUNTER.entered, entries * 0.95), c(COUNTER.entered, entries * 0.05, { variant: 'holdout' })];
  for (const reason of ['completed', 'exit-criteria', 'timeout', 'erased', 'failed']) out.push(c(COUNTER.exited, entries / 5, { reason }));
  for (const [node, channel] of [['first', 'email'], ['second', 'sms'], ['third', 'push']]) {
    out.push(c(COUNTER.sent, entries * 0.8, { node, channel }));
    for (const reason of ['no-address', 'opted-out', 'suppressed', 'render-failed']) out.push(c(COUNTER.suppressed, entries * 0.02, { node, channel, reason }));
    for (const reason of ['failed', 'unknown']) out.push(c(COUNTER.failed, entries * 0.01, { node, channel, reason }));
    for (const name of [COUNTER.delivered, COUNTER.bounced, COUNTER.complained]) out.push(c(name, entries * 0.1, { node, channel }));
    for (const name of [COUNTER.opened, COUNTER.clicked]) for (const agent of ['human', 'machine'] as const) out.push(c(name, entries * 0.1, { node, channel, agent }));
  }
  for (const variant of ['a', 'b', 'c', 'holdout']) {
    out.push(c(COUNTER.assigned, entries * (variant === 'holdout' ? 0.1 : 0.3), { node: 'pick', variant }));
    out.push(c(COUNTER.converted, entries * 0.03, { node: 'pick', variant }), c(COUNTER.revenue, entries * 2.5, { node: 'pick', variant }));
  }
  out.push(c(COUNTER.converted, entries * 0.1), c(COUNTER.revenue, entries * 8), c(COUNTER.converted, entries * 0.004, { variant: 'holdout' }));
  out.push(c(COUNTER.convertedAfterClick, entries * 0.02), c(COUNTER.secondsToConvert, entries * 3600));
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export const report: Benchmark = {
  name: 'report',
  async run(): Promise<Figure[]> {
    const dynamo = await startDynalite([TABLE]);
    try {
      const db = DynamoDBDocumentClient.from(dynamo.client);
      const days = daysBetween('2026-11-01', new Date(Date.parse('2026-11-01') + (DAYS - 1) * 86_400_000).toISOString().slice(0, 10));
      const random = mulberry32(7);
      // Each counter's value split over every shard, written as items (what many ADDs would have left).
      const items: Record<string, unknown>[] = [];
      for (const day of days) {
        for (const inc of dayCounters(day, ENTRIES / DAYS)) {
          let left = inc.by ?? 1;
          for (let shard = 0; shard < COUNTER_SHARDS; shard++) {
            const part = shard === COUNTER_SHARDS - 1 ? left : Math.floor((left * random()) / 2);
            left -= part;
            items.push({ pk: counterPartitionKey(JOURNEY, shard), sk: counterSortKey(inc.day, inc.name, inc.dims), value: part });
          }
        }
      }
      for (let i = 0; i < items.length; i += 25) {
        let request: Record<string, { PutRequest: { Item: Record<string, unknown> } }[]> | undefined = { [TABLE]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) };
        while (request && Object.keys(request).length > 0) request = (await db.send(new BatchWriteCommand({ RequestItems: request }))).UnprocessedItems as typeof request;
      }
      const counters = new DynamoJourneyCounters(db, TABLE);
      const [from, to] = [days[0], days[days.length - 1]];
      const reads: number[] = [];
      const reports: number[] = [];
      let entered = 0;
      for (let r = 0; r < RUNS; r++) {
        let t = performance.now();
        await counters.read(JOURNEY, from, to);
        reads.push(performance.now() - t);
        t = performance.now();
        entered = buildReport(journey, await counters.read(JOURNEY, from, to), from, to).entered;
        reports.push(performance.now() - t);
      }
      const note = `${items.length} counter items (${DAYS} days × 16 shards) for ${entered} entries; median of ${RUNS}; dynalite`;
      return [withBaseline({ name: 'report/generate-1m-entries', value: Number(median(reports).toFixed(1)), unit: 'ms', baseline: Number(median(reads).toFixed(1)), note: `${note}; baseline: the same counter read without the report and statistics` })];
    } finally {
      await dynamo.stop();
    }
  },
};
