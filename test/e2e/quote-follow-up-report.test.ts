import { join } from 'node:path';
import { loadJourneyDir, startLocalStack, type LocalStack } from '../../lambdas/local/stack';
import { VirtualClock } from '../../lambdas/local/virtual-clock';

/**
 * The "Done when" of issue 12: statemachines/quote-follow-up.json (5% journey holdout, a day-3 split with a holdout,
 * a goal with a value) for 2,000 generated profiles on the local stack, on a virtual clock, with opens, clicks (some
 * by Apple's Mail Privacy Protection) and purchases (some outside the window, some delivered twice). Every number of
 * the report is checked against a recount the test makes from what it did and from the raw runs and ledger items,
 * never from the counters. The generator is seeded: the same run every time.
 */
const JOURNEY = 'quote-follow-up';
const PROFILES = 2000;
const START = '2026-12-01T09:00:00.000Z';
const GOAL_WINDOW_MS = 14 * 86_400_000;
const HUMAN_AGENT = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)';
const APPLE_MPP = 'Mozilla/5.0';

/** mulberry32: a small seeded generator, so the scenario is the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Person {
  n: number;
  email?: string;
  phone?: string;
  optedOut: boolean;
  /** Checkpoint indexes (6-hour steps from START) and what is bought then. */
  purchases: { step: number; id: string; quoteId: string; premium: unknown; twice: boolean }[];
}

const rand = seeded(20261203);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
const STEPS = 4 * 20; // 20 days of 6-hour checkpoints
const BATCH_B_STEP = 4; // half the profiles enter a day later
const people: Person[] = Array.from({ length: PROFILES }, (_, n) => {
  const noEmail = rand() < 0.02;
  const person: Person = {
    n,
    ...(noEmail ? {} : { email: `buyer${n}@quotes.example` }),
    ...(noEmail || rand() < 0.5 ? { phone: `+49151${String(n).padStart(7, '0')}` } : {}),
    optedOut: !noEmail && rand() < 0.03,
    purchases: [],
  };
  const entered = n < PROFILES / 2 ? 0 : BATCH_B_STEP;
  if (rand() < 0.3) {
    // Up to 18 days after entry: some after the 14-day window; a few for another quote; some delivered twice.
    const step = entered + 1 + Math.floor(rand() * 72);
    const premium = rand() < 0.1 ? 'n/a' : Math.round(rand() * 90_000) / 100;
    person.purchases.push({ step, id: `order-${n}-1`, quoteId: rand() < 0.85 ? `q-${n}` : `q-${n}-other`, premium, twice: rand() < 0.2 });
    if (rand() < 0.15) person.purchases.push({ step: Math.min(STEPS, step + 1 + Math.floor(rand() * 8)), id: `order-${n}-2`, quoteId: `q-${n}`, premium: 120, twice: false });
  }
  return person;
});
const identitiesOf = (p: Person) => (p.email ? { email: p.email } : { phone: p.phone! });

interface Reply {
  status: number;
  body: any;
}

async function call(stack: LocalStack, method: string, path: string, body?: unknown, query?: Record<string, string>): Promise<Reply> {
  const reply = await stack.request({ method, path, query, body: body === undefined ? null : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: reply.statusCode, body: reply.body ? JSON.parse(reply.body) : null };
}

/** What the test did to each email: the outcomes SES would report once per message and agent. */
interface Posted {
  node: string;
  execution: string;
  outcomes: Set<string>;
  firstHumanClick?: string;
}

describe('quote-follow-up for 2,000 profiles: every figure of the report equals an independent recount', () => {
  let stack: LocalStack;
  let clock: VirtualClock;
  const posted = new Map<string, Posted>();
  /** Purchases as they were delivered (a duplicate delivery is the same event id again). */
  const purchases: { identity: string; id: string; at: string; premium: unknown }[] = [];
  let report: any;
  let runs: ReturnType<LocalStack['executions']['list']>;
  let ledger: Record<string, any>[];
  /** identity (`email:…` or `phone:…`) → profile id, as the profile API resolves it. */
  const profileIds = new Map<string, string>();

  beforeAll(async () => {
    clock = new VirtualClock(START);
    const journeys = loadJourneyDir(join(__dirname, '..', '..', 'statemachines')).filter((j) => j.journey.id === JOURNEY);
    stack = await startLocalStack({ listen: false, clock, journeys, segments: [], storage: 'memory' });
    const ingest = async (type: string, detail: Record<string, unknown>) => {
      const reply = await call(stack, 'POST', '/events', { type, ...detail });
      if (reply.status !== 202) throw new Error(`POST /events ${type}: ${reply.status} ${JSON.stringify(reply.body)}`);
    };
    const enter = async (p: Person) =>
      ingest('quote.requested', {
        id: `quote-${p.n}`,
        identities: { ...(p.email ? { email: p.email } : {}), ...(p.phone ? { phone: p.phone } : {}) },
        attributes: { firstName: `Buyer ${p.n}` },
        ...(p.optedOut ? { consent: { email: 'opted-out' } } : {}),
        properties: { quoteId: `q-${p.n}`, product: 'car insurance', premium: '31.50', quoteUrl: `https://insure.example/quotes/${p.n}` },
      });
    const engage = async (messageId: string, body: Record<string, unknown>) => {
      const reply = await call(stack, 'POST', `/local/outbox/${messageId}/events`, body);
      if (reply.status !== 202) throw new Error(`engagement ${messageId}: ${reply.status} ${JSON.stringify(reply.body)}`);
    };
    const seen = new Set<string>();
    for (let step = 0; step <= STEPS; step++) {
      if (step > 0) await clock.advance('6h');
      if (step === 0 || step === BATCH_B_STEP) {
        const batch = step === 0 ? people.slice(0, PROFILES / 2) : people.slice(PROFILES / 2);
        for (const p of batch) await enter(p);
        await stack.settle();
      }
      // The emails sent since the last checkpoint: delivered now, opened and clicked an hour later.
      const fresh = stack.outbox.list({ journeyId: JOURNEY, channel: 'email' }).filter((m) => !seen.has(m.messageId));
      for (const m of fresh) {
        seen.add(m.messageId);
        posted.set(m.messageId, { node: m.nodeId!, execution: m.tags!.execution, outcomes: new Set() });
        if (rand() < 0.95) {
          await engage(m.messageId, { type: 'delivery' });
          if (rand() < 0.1) await engage(m.messageId, { type: 'delivery' }); // SES delivers an event twice
          posted.get(m.messageId)!.outcomes.add('delivered');
        }
      }
      await stack.settle();
      if (fresh.length > 0) await clock.advance('1h');
      for (const m of fresh) {
        const mine = posted.get(m.messageId)!;
        const opens: string[] = [];
        if (rand() < 0.3) opens.push(APPLE_MPP);
        if (rand() < 0.35) opens.push(HUMAN_AGENT);
        if (rand() < 0.1 && opens.length > 0) opens.push(pick(opens)); // a repeated open of the same kind
        for (const userAgent of opens) {
          await engage(m.messageId, { type: 'open', userAgent, ip: userAgent === APPLE_MPP ? '17.58.101.4' : '198.51.100.23' });
          mine.outcomes.add(userAgent === APPLE_MPP ? 'opened-machine' : 'opened-human');
        }
        const clicks: string[] = [];
        if (rand() < 0.08) clicks.push(APPLE_MPP);
        if (rand() < 0.15) clicks.push(HUMAN_AGENT);
        if (rand() < 0.2 && clicks.length > 0) clicks.push(pick(clicks));
        for (const userAgent of clicks) {
          await engage(m.messageId, { type: 'click', link: 'https://insure.example/quotes', userAgent, ip: '198.51.100.23' });
          const human = userAgent !== APPLE_MPP;
          mine.outcomes.add(human ? 'clicked-human' : 'clicked-machine');
          if (human) mine.firstHumanClick ??= clock.now().toISOString();
        }
      }
      await stack.settle();
      for (const p of people) {
        for (const order of p.purchases.filter((o) => o.step === step)) {
          const event = { id: order.id, identities: identitiesOf(p), properties: { quoteId: order.quoteId, annualPremium: order.premium } };
          for (let k = 0; k < (order.twice ? 2 : 1); k++) {
            await ingest('policy.purchased', event);
            purchases.push({ identity: Object.values(identitiesOf(p))[0], id: order.id, at: clock.now().toISOString(), premium: order.premium });
          }
        }
      }
      await stack.settle();
    }
    await clock.runUntilIdle();
    runs = stack.executions.list({ journeyId: JOURNEY });
    for (const p of people) {
      const [kind, value] = Object.entries(identitiesOf(p))[0];
      const found = await call(stack, 'GET', '/profiles', undefined, { identity: `${kind}:${value}` });
      profileIds.set(value, found.body.id);
    }
    ledger = await scanLedger(stack);
    report = (await call(stack, 'GET', `/journeys/${JOURNEY}/report`, undefined, { from: '2026-12-01', to: '2026-12-31' })).body;
  }, 300_000);
  afterAll(() => stack?.stop());

  const held = () => runs.filter((r) => r.input.holdout === true);
  const treated = () => runs.filter((r) => r.input.holdout !== true);
  const variantOf = (r: (typeof runs)[number]) => (r.input.variants as Record<string, string>).channel_test;
  const profileKey = (r: (typeof runs)[number]) => r.input.profileId as string;

  /** Conversions recounted from the purchases delivered: the first goal event within [entry, entry + 14 days]. */
  function recountConversions() {
    const byProfile = new Map(runs.map((r) => [r.input.profileId, r]));
    const converted = new Map<string, { at: string; revenue?: number; seconds: number; afterClick: boolean }>();
    const humanClick = new Map<string, string>();
    for (const m of posted.values()) {
      if (m.firstHumanClick && !(humanClick.get(m.execution)! <= m.firstHumanClick)) humanClick.set(m.execution, m.firstHumanClick);
    }
    for (const order of purchases) {
      const run = byProfile.get(profileIds.get(order.identity)!)!;
      if (converted.has(run.executionArn)) continue;
      const entered = Date.parse(run.startDate);
      const at = Date.parse(order.at);
      if (at < entered || at > entered + GOAL_WINDOW_MS) continue;
      const revenue = typeof order.premium === 'number' ? order.premium : undefined;
      const click = humanClick.get(run.executionArn.split(':').pop()!);
      converted.set(run.executionArn, { at: order.at, ...(revenue === undefined ? {} : { revenue }), seconds: Math.round((at - entered) / 1000), afterClick: click !== undefined && click <= order.at });
    }
    return converted;
  }

  it('drives a scenario with something in every figure', () => {
    expect(runs).toHaveLength(PROFILES);
    expect(purchases.length).toBeGreaterThan(PROFILES / 4);
    const conversions = recountConversions();
    expect(conversions.size).toBeGreaterThan(PROFILES / 8);
    const late = purchases.filter((o) => {
      const run = runs.find((r) => r.input.profileId === profileIds.get(o.identity))!;
      return Date.parse(o.at) > Date.parse(run.startDate) + GOAL_WINDOW_MS;
    });
    expect(late.length).toBeGreaterThan(0);
    expect(purchases.length - new Set(purchases.map((o) => o.id)).size).toBeGreaterThan(0); // delivered twice
    expect(held().length).toBeGreaterThan(PROFILES / 40);
  });

  it('counts entries, by entry day, and exits by reason as the runs have them', () => {
    expect(report.entered).toBe(runs.length);
    const byDay = (day: string) => runs.filter((r) => r.startDate.startsWith(day)).length;
    const status = (s: string) => runs.filter((r) => r.status === s).length;
    expect(report.exited.byReason).toEqual({
      completed: status('SUCCEEDED'),
      failed: status('FAILED'),
      timeout: status('TIMED_OUT'),
      erased: 0,
      'exit-criteria': 0,
      preempted: 0,
    });
    expect(report.exited.total).toBe(runs.length - status('RUNNING'));
    const conversions = recountConversions();
    const convertedOn = (day: string) => runs.filter((r) => r.startDate.startsWith(day) && conversions.has(r.executionArn)).length;
    expect(report.days.filter((d: { entered: number; converted: number }) => d.entered + d.converted > 0)).toEqual(
      ['2026-12-01', '2026-12-02'].map((day) => ({ day, entered: byDay(day), converted: convertedOn(day) })),
    );
  });

  it('counts each send node\'s sent, suppressed by reason and failed as the ledger has them', () => {
    for (const node of report.nodes) {
      const entries = ledger.filter((e) => e.sk === node.id);
      const count = (status: string) => entries.filter((e) => e.status === status).length;
      const reasons: Record<string, number> = {};
      for (const e of entries.filter((x) => x.status === 'suppressed')) reasons[e.reason] = (reasons[e.reason] ?? 0) + 1;
      expect({ id: node.id, sent: node.sent, suppressed: node.suppressed.byReason, failed: node.failed.total }).toEqual({
        id: node.id,
        sent: count('sent'),
        suppressed: reasons,
        failed: count('failed') + count('unknown'),
      });
      expect(node.suppressed.total).toBe(Object.values(reasons).reduce((s, v) => s + v, 0));
      if (node.kind === 'send') expect(node.reached).toEqual({ available: true, value: entries.length });
      else expect(node.reached.available).toBe(false);
      // The outbox holds exactly the sent messages.
      expect(node.sent).toBe(stack.outbox.list({ journeyId: JOURNEY }).filter((m) => m.nodeId === node.id).length);
    }
    // The journey holdout got nothing; the split holdout nothing after day 3.
    const sentTo = new Set(stack.outbox.list({ journeyId: JOURNEY }).map((m) => `${m.profileId} ${m.nodeId}`));
    expect(held().filter((r) => [...sentTo].some((k) => k.startsWith(`${r.input.profileId} `)))).toEqual([]);
    const splitHeld = treated().filter((r) => variantOf(r) === 'holdout');
    const later = ['sms-reminder', 'second-reminder-email', 'last-reminder-email'];
    expect(splitHeld.filter((r) => later.some((node) => sentTo.has(`${r.input.profileId} ${node}`)))).toEqual([]);
    const first = ledger.filter((e) => e.sk === 'first-reminder-email');
    expect(first.filter((e) => e.reason === 'holdout').length).toBeGreaterThan(0);
    expect(new Set(first.map((e) => e.reason).filter(Boolean)).size).toBeGreaterThanOrEqual(3);
  });

  it('counts delivered, opened and clicked once per message (and agent), people and machines apart', () => {
    for (const node of report.nodes) {
      const messages = [...posted.values()].filter((m) => m.node === node.id);
      const with_ = (outcome: string) => messages.filter((m) => m.outcomes.has(outcome)).length;
      expect({ id: node.id, delivered: node.delivered, opened: node.opened, clicked: node.clicked, bounced: node.bounced, complained: node.complained }).toEqual({
        id: node.id,
        delivered: with_('delivered'),
        opened: { total: with_('opened-human') + with_('opened-machine'), human: with_('opened-human'), machine: with_('opened-machine') },
        clicked: { total: with_('clicked-human') + with_('clicked-machine'), human: with_('clicked-human'), machine: with_('clicked-machine') },
        bounced: 0,
        complained: 0,
      });
    }
    // The ledger holds the same outcomes.
    const byMessage = new Map(ledger.map((e) => [e.messageId, e]));
    for (const [messageId, m] of posted) {
      const entry = byMessage.get(messageId)!;
      const outcomes = Object.keys(entry).filter((k) => k.startsWith('outcome#')).map((k) => k.slice('outcome#'.length));
      expect(outcomes.sort()).toEqual([...m.outcomes].sort());
    }
  });

  it('counts conversions, revenue, click-through and time to convert as the purchases recount them', () => {
    const conversions = [...recountConversions().values()];
    const revenue = conversions.reduce((s, c) => s + (c.revenue ?? 0), 0);
    const seconds = conversions.reduce((s, c) => s + c.seconds, 0);
    const goal = report.goal;
    expect(goal.converted).toBe(conversions.length);
    expect(goal.revenue).toBeCloseTo(revenue, 6);
    expect(goal.convertedAfterClick).toBe(conversions.filter((c) => c.afterClick).length);
    expect(goal.convertedAfterClick).toBeGreaterThan(0);
    expect(goal.conversionRate).toEqual({ available: true, value: conversions.length / runs.length });
    expect(goal.averageOrderValue.value).toBeCloseTo(revenue / conversions.length, 6);
    expect(goal.revenuePerRecipient.value).toBeCloseTo(revenue / runs.length, 6);
    expect(goal.averageSecondsToConvert.value).toBeCloseTo(seconds / conversions.length, 6);
  });

  it('reports the journey holdout and each split arm\'s entries, conversions and revenue, with no sample ratio mismatch', () => {
    const conversions = recountConversions();
    const armOf = (arm: (typeof runs)) => ({
      entries: arm.length,
      conversions: arm.filter((r) => conversions.has(r.executionArn)).length,
      revenue: arm.reduce((s, r) => s + (conversions.get(r.executionArn)?.revenue ?? 0), 0),
    });
    const check = (reported: any, expected: ReturnType<typeof armOf>) => {
      expect({ entries: reported.entries, conversions: reported.conversions }).toEqual({ entries: expected.entries, conversions: expected.conversions });
      expect(reported.revenue).toBeCloseTo(expected.revenue, 6);
      expect(reported.conversionRate).toEqual({ available: true, value: expected.conversions / expected.entries });
    };
    const [journeyHoldout, split] = report.experiments;
    expect(journeyHoldout.kind).toBe('journey-holdout');
    check(journeyHoldout.arms.find((a: { id: string }) => a.id === 'holdout'), armOf(held()));
    check(journeyHoldout.arms.find((a: { id: string }) => a.id === 'journey'), armOf(treated()));
    expect(split).toMatchObject({ kind: 'split', node: 'channel-test', control: 'holdout' });
    for (const variant of ['text-first', 'email-only', 'holdout']) {
      check(split.arms.find((a: { id: string }) => a.id === variant), armOf(treated().filter((r) => variantOf(r) === variant)));
    }
    for (const experiment of [journeyHoldout, split]) {
      expect(experiment.sampleRatio).toMatchObject({ available: true, mismatch: false });
      const control = experiment.arms.find((a: { id: string }) => a.id === experiment.control);
      for (const c of experiment.comparisons) {
        const arm = experiment.arms.find((a: { id: string }) => a.id === c.variant);
        const difference = arm.conversions / arm.entries - control.conversions / control.entries;
        expect(c.sequential).toMatchObject({ available: true, difference: expect.closeTo(difference, 12) });
        expect(c.incrementalConversions.value).toBeCloseTo(difference * arm.entries, 9);
      }
    }
    // Assignment is per profile: every run of a profile has the same arms (one run each here).
    expect(new Set(runs.map(profileKey)).size).toBe(runs.length);
  });
});

/** Every ledger item of the journey, read straight from the runtime table (in memory: the same items as in DynamoDB). */
async function scanLedger(stack: LocalStack): Promise<Record<string, any>[]> {
  const runtime = stack.memoryTables!.runtime;
  return runtime
    .partitionKeys()
    .filter((pk) => pk.startsWith('LEDGER#'))
    .flatMap((pk) => runtime.query(pk))
    .filter((item) => item.journeyId === JOURNEY);
}
