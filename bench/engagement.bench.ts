import { sesEventEntry, type LocalEngagementRequest } from '../lambdas/local/engagement-events';
import type { PutEventsEntry } from '../lambdas/local/bus';
import { LOCAL_CONFIGURATION_SET, startLocalStack, type LocalStack } from '../lambdas/local/stack';
import { VirtualClock } from '../lambdas/local/virtual-clock';
import { withBaseline, type Benchmark } from './types';

const MESSAGES = Number(process.env.BENCH_ENGAGEMENT_MESSAGES ?? 300);
const EVENTS: LocalEngagementRequest[] = [
  { type: 'delivery' },
  { type: 'open' },
  { type: 'click', link: 'https://shop.example/offer' },
  // Redeliveries: each changes nothing, as on AWS where delivery is at least once.
  { type: 'delivery' },
  { type: 'open' },
  { type: 'click', link: 'https://shop.example/offer' },
];

/** Puts the entries on the local bus 10 at a time and waits until every delivery has been handled. */
async function drain(stack: LocalStack, entries: PutEventsEntry[]): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < entries.length; i += 10) {
    const out = stack.bus.putEvents(entries.slice(i, i + 10));
    if (out.FailedEntryCount) throw new Error('PutEvents failed');
  }
  await stack.bus.idle();
  return performance.now() - start;
}

/**
 * SES engagement events per second through the local stack (bus rule → record-delivery-event → ledger, counters,
 * profile, in memory), against the same events for a journey that is not deployed (parsed, then unattributed).
 */
export const engagement: Benchmark = {
  name: 'engagement',
  async run() {
    const clock = new VirtualClock('2026-12-01T09:00:00.000Z');
    const stack = await startLocalStack({ listen: false, storage: 'memory', clock });
    try {
      for (let i = 0; i < MESSAGES; i++) {
        const body = JSON.stringify({ identities: { email: `engaged-${i}@bench.example` }, context: { subject: 'Hi', text: 'Hello' } });
        const reply = await stack.request({ method: 'POST', path: '/journeys/manual-outreach/trigger', body });
        if (reply.statusCode !== 202) throw new Error(`trigger: ${reply.statusCode} ${reply.body}`);
      }
      await stack.settle();
      await clock.advance('1h');
      const messages = stack.outbox.list({ journeyId: 'manual-outreach', channel: 'email' });
      const entries = (now: Date, journey?: string) =>
        messages.flatMap((m) => EVENTS.map((e) => sesEventEntry(journey ? { ...m, tags: { ...m.tags, journey } } : m, e, now, LOCAL_CONFIGURATION_SET)));
      const baselineMs = await drain(stack, entries(clock.now(), 'not-deployed'));
      const ms = await drain(stack, entries(clock.now()));
      const recorded = await stack.counters.read('manual-outreach', '2026-12-01', '2026-12-01');
      // Only what engagement counts (the journey's entries and sends are counted too).
      const total = recorded.filter((c) => ['delivered', 'opened', 'clicked'].includes(c.name)).reduce((n, c) => n + c.value, 0);
      if (total !== messages.length * 3) throw new Error(`expected ${messages.length * 3} counts, got ${total}`);
      const count = messages.length * EVENTS.length;
      const rate = (ms2: number) => Number(((count * 1000) / ms2).toFixed(0));
      return [
        withBaseline({
          name: 'engagement/local-events-per-second',
          value: rate(ms),
          unit: 'events/s',
          baseline: rate(baselineMs),
          note: `${count} SES events (delivery, open, click, each twice) for ${messages.length} emails, in-memory stores; baseline: the same events for a journey not deployed (unattributed)`,
        }),
      ];
    } finally {
      await stack.stop();
    }
  },
};
