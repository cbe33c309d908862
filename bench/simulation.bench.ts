import { startLocalStack, type LocalStack } from '../lambdas/local/stack';
import { withoutStackTraces } from '../lambdas/local/stack-traces';
import { VirtualClock } from '../lambdas/local/virtual-clock';
import { withBaseline, type Benchmark } from './types';

/** Simulated profiles (`BENCH_SIM_PROFILES`) and the baseline's entries through dynalite (`BENCH_SIM_BASELINE`). */
const PROFILES = Number(process.env.BENCH_SIM_PROFILES ?? 10_000);
const BASELINE = Number(process.env.BENCH_SIM_BASELINE ?? 400);
const START = Date.parse('2026-12-01T09:00:00Z');

const cart = (i: number) => ({
  id: `sim-cart-${i}`,
  identities: { email: `sim-${i}@bench.example` },
  attributes: { firstName: `S${i}` },
  properties: { action: 'item-added', cartId: `sim-cart-${i}`, productIds: [`sku-${i % 50}`], cartUrl: `https://shop.example/cart/${i}`, itemCount: 1 },
});
const order = (i: number) => ({ id: `sim-order-${i}`, identities: { email: `sim-${i}@bench.example` }, properties: { cartId: `sim-cart-${i}`, total: 40 } });

/** Entries go on the bus as PutEvents puts them; the stack stamps their time with its clock. */
function put(stack: LocalStack, entries: { type: string; detail: Record<string, unknown> }[]): void {
  for (let i = 0; i < entries.length; i += 10) {
    const batch = entries.slice(i, i + 10).map((e) => ({ Source: 'bench.shop', DetailType: e.type, Detail: JSON.stringify(e.detail) }));
    const out = stack.bus.putEvents(batch);
    if (out.FailedEntryCount > 0) throw new Error(`PutEvents failed: ${JSON.stringify(out.Entries.find((x) => x.ErrorCode))}`);
  }
}

function outcome(stack: LocalStack, expected: number): { ended: number; messages: number } {
  const runs = stack.executions.list({ journeyId: 'cart-abandonment' });
  const bad = runs.filter((r) => r.status !== 'SUCCEEDED');
  if (runs.length !== expected || bad.length > 0) {
    throw new Error(`cart-abandonment: ${runs.length} runs of ${expected}, ${bad.length} not SUCCEEDED (${bad[0]?.status} ${bad[0]?.error ?? ''})`);
  }
  return { ended: runs.length, messages: stack.outbox.list({ journeyId: 'cart-abandonment' }).length };
}

/**
 * Cart abandonment over 3 virtual days for PROFILES generated shoppers, simulated in process (virtual clock, in-memory
 * stores, the compiled ASL in aws-local-stepfunctions): carts over the first virtual hour, one in five ordered within
 * the hour, the others reminded at 1 h and given the last chance at 1 h + 3 d. Baseline: the local stack (dynalite,
 * waits scaled to zero) running BASELINE entries of the same journey to their end, in the same process run.
 */
export const simulation: Benchmark = {
  name: 'simulation',
  async run() {
    // Baseline first: the local stack as `npm start` runs it, on dynalite, real time scaled to zero.
    const local = await startLocalStack({ listen: false, timeScale: Number.POSITIVE_INFINITY });
    let baselinePerSecond: number;
    try {
      put(local, [{ type: 'page.viewed', detail: { id: 'warm', identities: { email: 'warm@bench.example' }, properties: {} } }]);
      await local.settle();
      const begin = performance.now();
      put(local, Array.from({ length: BASELINE }, (_, i) => ({ type: 'cart.updated', detail: cart(i) })));
      for (;;) {
        await local.settle();
        if (local.executions.list({ journeyId: 'cart-abandonment', status: 'RUNNING' }).length === 0) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      baselinePerSecond = BASELINE / ((performance.now() - begin) / 1000);
      outcome(local, BASELINE);
    } finally {
      await local.stop();
    }

    const clock = new VirtualClock(START);
    const stack = await startLocalStack({ listen: false, storage: 'memory', clock });
    try {
      put(stack, [{ type: 'page.viewed', detail: { id: 'warm', identities: { email: 'warm@bench.example' }, properties: {} } }]);
      await stack.settle();
      const heapBefore = process.memoryUsage().heapUsed;
      const begin = performance.now();
      // Carts spread over the first hour, 10 per virtual instant; every fifth shopper orders 30 minutes after the cart.
      const spacing = 3_600_000 / PROFILES;
      const timeline = new Map<number, { type: string; detail: Record<string, unknown> }[]>();
      const add = (at: number, entry: { type: string; detail: Record<string, unknown> }) => timeline.set(at, [...(timeline.get(at) ?? []), entry]);
      const orders: number[] = [];
      for (let i = 0; i < PROFILES; i++) {
        const at = START + Math.floor(Math.floor(i / 10) * 10 * spacing);
        add(at, { type: 'cart.updated', detail: cart(i) });
        if (i % 5 === 0) {
          orders.push(i);
          add(at + 1_800_000, { type: 'order.placed', detail: order(i) });
        }
      }
      // As `waymark simulate` runs it: without error stacks (see withoutStackTraces); the baseline keeps them, as `npm start`.
      const stoppedAt = await withoutStackTraces(async () => {
        for (const at of [...timeline.keys()].sort((x, y) => x - y)) {
          await clock.advanceTo(at);
          put(stack, timeline.get(at)!);
        }
        return clock.runUntilIdle();
      });
      const seconds = (performance.now() - begin) / 1000;
      const { messages } = outcome(stack, PROFILES);
      const virtualDays = (stoppedAt.getTime() - START) / 86_400_000;
      return [
        withBaseline({
          name: 'simulation/journey-entries-per-second',
          value: Number((PROFILES / seconds).toFixed(1)),
          unit: 'entries/s',
          baseline: Number(baselinePerSecond.toFixed(1)),
          note: `cart-abandonment for ${PROFILES} generated profiles over ${virtualDays.toFixed(2)} virtual days, in process (virtual clock, in-memory stores, compiled ASL in aws-local-stepfunctions), one core; baseline: ${BASELINE} entries of the same journey run to their end on the local stack (dynalite, waits scaled to zero)`,
        }),
        { name: 'simulation/wall-seconds', value: Number(seconds.toFixed(2)), unit: 's', note: `${PROFILES} entries, ${messages} messages, ${orders.length} orders within the hour` },
        { name: 'simulation/heap-growth-mb', value: Number(((process.memoryUsage().heapUsed - heapBefore) / 2 ** 20).toFixed(1)), unit: 'MB', note: 'heap used after the run minus before (runs, trails, outbox and stores are all kept)' },
      ];
    } finally {
      await stack.stop();
    }
  },
};
