import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { startLocalStack, type LocalStack } from '../lambdas/local/stack';
import { withBaseline, type Benchmark } from './types';

const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 2000);
const CONCURRENT_REQUESTS = 8;

async function sendAll(stack: LocalStack, type: string, detail: (i: number) => Record<string, unknown>): Promise<void> {
  const client = new EventBridgeClient({ endpoint: stack.url, region: 'local', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
  const batches: number[][] = [];
  for (let i = 0; i < ENTRIES; i += 10) batches.push(Array.from({ length: Math.min(10, ENTRIES - i) }, (_, k) => i + k));
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++];
      const out = await client.send(new PutEventsCommand({ Entries: batch.map((i) => ({ Source: 'bench.shop', DetailType: type, Detail: JSON.stringify(detail(i)) })) }));
      if (out.FailedEntryCount) throw new Error(`PutEvents failed: ${JSON.stringify(out.Entries?.find((e) => e.ErrorCode))}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENT_REQUESTS }, worker));
  client.destroy();
}

async function until(probe: () => boolean, what: string, ms = 600_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`bench timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const cart = (run: string) => (i: number) => ({
  id: `${run}-${i}`,
  identities: { email: `${run}-${i}@bench.example` },
  attributes: { firstName: `B${i}` },
  properties: { action: 'item-added', cartId: `${run}-cart-${i}`, productIds: [`sku-${i}`], cartUrl: `https://shop.example/cart/${i}`, itemCount: 1 },
});

export const localThroughput: Benchmark = {
  name: 'local-throughput',
  async run() {
    // Waits scaled to zero: each entry runs straight through to its first email.
    const stack = await startLocalStack({ port: 0, timeScale: Number.POSITIVE_INFINITY });
    try {
      // Warm-up: compile paths, JIT, dynalite tables.
      await sendAll(stack, 'page.viewed', (i) => ({ id: `warm-${i}`, identities: { email: `warm-${i}@bench.example` }, properties: {} }));
      await stack.bus.idle();

      // Baseline: the same pipeline with no journey to start (PutEvents → route → profile update).
      const baselineStart = performance.now();
      await sendAll(stack, 'cart.updated', (i) => ({ ...cart('base')(i), properties: { action: 'item-removed' } }));
      await stack.bus.idle();
      const baselineSeconds = (performance.now() - baselineStart) / 1000;

      const start = performance.now();
      await sendAll(stack, 'cart.updated', cart('run'));
      await until(() => stack.outbox.list({ journeyId: 'cart-abandonment' }).filter((m) => m.nodeId === 'reminder-email').length >= ENTRIES, 'reminder emails');
      const seconds = (performance.now() - start) / 1000;
      await stack.settle();
      const failed = stack.executions.list({ status: 'FAILED' }).length + stack.executions.list({ status: 'TIMED_OUT' }).length;
      if (failed > 0) throw new Error(`${failed} executions failed during the bench`);
      return [
        withBaseline({
          name: 'local-throughput/journey-entries-per-second',
          value: Number((ENTRIES / seconds).toFixed(1)),
          unit: 'entries/s',
          baseline: Number((ENTRIES / baselineSeconds).toFixed(1)),
          note: `${ENTRIES} cart.updated events via PutEvents → cart-abandonment → reminder email in the outbox, waits scaled to zero; baseline: the same events matching no journey`,
        }),
        { name: 'local-throughput/messages-per-entry', value: Number((stack.outbox.size / ENTRIES).toFixed(2)), unit: 'messages', note: 'reminder + last-chance email' },
      ];
    } finally {
      await stack.stop();
    }
  },
};
