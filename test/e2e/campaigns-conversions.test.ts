import { inControlGroup } from '../../lambdas/core/campaigns/audience';
import { Campaign } from '../../lambdas/core/campaigns/schema';
import { percentBranch } from '../../lambdas/core/campaigns/split';
import { conversionLines } from '../../bin/campaigns';
import { call } from './http';
import { openVirtualStack } from './local-stack';

/**
 * A campaign run's conversions end to end (local stack: memory storage, s3rver, virtual clock): a generated audience,
 * a 80/20 percent split with a holdout, an email, a day's wait, a reminder; the stage's control group 20 %. Orders
 * (the goal, with a total) arrive before the reminder, after the run, twice for some members, and after the window.
 * Every conversion figure of GET /campaigns/{id}/runs/{runId} is checked against a recount the test makes from what it
 * posted, the outbox and the assignment functions, never from the counters.
 */
const PROFILES = 400;
const START = '2026-12-07T08:00:00.000Z';
const WINDOW_MS = 3 * 86_400_000;
const CONTROL_PERCENT = 20;

const GOALED = Campaign.parse({
  schemaVersion: 1,
  id: 'measured',
  name: 'Measured offer',
  audience: { rule: { kind: 'equals', field: { kind: 'attribute', name: 'tier' }, value: 'gold' } },
  schedule: { type: 'on-demand' },
  goal: { event: 'order.placed', within: '3d', value: 'properties.total' },
  start: 'ab',
  steps: {
    ab: { kind: 'split', by: 'percent', variants: [{ id: 'offer', weight: 80, next: 'email' }], holdout: { weight: 20 } },
    email: { kind: 'deliver', channel: 'email', template: { subject: 'Your offer', text: 'Hello' }, next: 'wait' },
    wait: { kind: 'wait', duration: '1d', next: 'reminder' },
    reminder: { kind: 'deliver', channel: 'email', template: { subject: 'Still yours', text: 'Hello again' } },
  },
});
const SPLIT = GOALED.steps.ab as Extract<Campaign['steps'][string], { kind: 'split'; by: 'percent' }>;

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

interface Member {
  email: string;
  gold: boolean;
  optedOut: boolean;
  id?: string;
}
interface Order {
  email: string;
  id: string;
  time: string;
  total: number;
}

describe('campaign run conversions for a generated audience: every figure equals a recount', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  const rand = seeded(20261207);
  const members: Member[] = Array.from({ length: PROFILES }, (_, n) => ({
    email: `buyer${n}@measured.example`,
    gold: rand() < 0.9,
    optedOut: rand() < 0.05,
  }));
  const orders: Order[] = [];
  let run: any;
  let runStart = 0;

  const order = async (m: Member, total: number, n: number) => {
    const time = ctx.clock.now().toISOString();
    const id = `order-${m.email}-${n}`;
    const reply = await call(ctx.stack, 'POST', '/events', { type: 'order.placed', id, time, identities: { email: m.email }, properties: { total } });
    if (reply.status !== 202) throw new Error(`POST /events: ${reply.status} ${JSON.stringify(reply.body)}`);
    orders.push({ email: m.email, id, time, total });
  };

  beforeAll(async () => {
    ctx = await openVirtualStack({
      s3: true,
      storage: 'memory',
      start: START,
      campaigns: [GOALED],
      journeys: [],
      rules: [],
      campaignControlGroupPercent: CONTROL_PERCENT,
    });
    for (const m of members) {
      const reply = await call(ctx.stack, 'POST', '/events', {
        type: 'signed.up',
        id: `signup-${m.email}`,
        identities: { email: m.email },
        attributes: { tier: m.gold ? 'gold' : 'silver' },
        ...(m.optedOut ? { consent: { email: 'opted-out' } } : {}),
      });
      if (reply.status !== 202) throw new Error(`POST /events: ${reply.status}`);
    }
    await ctx.stack.settle();
    for (const m of members) {
      m.id = (await call(ctx.stack, 'GET', `/profiles?identity=${encodeURIComponent(`email:${m.email}`)}`)).body.id;
    }
    // An order before the run: no window is open yet.
    await order(members[0], 500, 0);

    await ctx.clock.advance('1m');
    const started = await call(ctx.stack, 'POST', `/campaigns/${GOALED.id}/runs`, {});
    expect(started.status).toBe(202);
    runStart = Date.parse(ctx.clock.now().toISOString());
    // Through the email, into the day's wait: orders now follow the email only.
    await ctx.clock.advance('2h');
    await ctx.stack.settle();
    for (const [n, m] of members.entries()) if (rand() < 0.15) await order(m, 10 + Math.floor(rand() * 190), 1 + n);
    await ctx.stack.settle();
    // The reminder, the end of the run; then orders after both messages (some members buy a second time).
    await ctx.clock.runUntilIdle();
    await ctx.stack.settle();
    await ctx.clock.advance('6h');
    for (const [n, m] of members.entries()) if (rand() < 0.15) await order(m, 10 + Math.floor(rand() * 190), 1000 + n);
    await ctx.stack.settle();
    // After the window (the run's start + 1 day of waits + 3 days): converts nothing.
    await ctx.clock.advanceTo(new Date(runStart + 86_400_000 + WINDOW_MS + 3_600_000));
    for (const [n, m] of members.entries()) if (rand() < 0.1) await order(m, 77, 2000 + n);
    await ctx.stack.settle();
    run = (await call(ctx.stack, 'GET', `/campaigns/${GOALED.id}/runs/${started.body.runId}`)).body;
  }, 180_000);
  afterAll(async () => {
    await ctx.clock.runUntilIdle();
    await ctx.stack.stop();
  });

  /** The recount: each member's converting order (its first in the window) and the messages sent to it. */
  function recount() {
    const until = runStart + 86_400_000 + WINDOW_MS;
    const sent = new Map<string, Map<string, number>>();
    for (const m of ctx.stack.outbox.list({ channel: 'email' }).filter((x) => x.journeyId === `campaign:${GOALED.id}`)) {
      const steps = sent.get(m.recipient) ?? new Map<string, number>();
      steps.set(m.nodeId, Date.parse(m.time));
      sent.set(m.recipient, steps);
    }
    const first = new Map<string, Order>();
    for (const o of orders) {
      const t = Date.parse(o.time);
      if (t >= runStart && t <= until && !first.has(o.email)) first.set(o.email, o);
    }
    const tally = () => ({ members: 0, converted: 0, revenue: 0 });
    const audience = tally();
    const control = tally();
    const arms = { offer: tally(), holdout: tally() };
    const steps = { email: tally(), reminder: tally() };
    for (const m of members.filter((x) => x.gold)) {
      const conversion = first.get(m.email);
      const add = (t: ReturnType<typeof tally>) => {
        t.members++;
        if (conversion) {
          t.converted++;
          t.revenue += conversion.total;
        }
      };
      if (inControlGroup(m.id!, CONTROL_PERCENT)) {
        add(control);
        continue;
      }
      add(audience);
      add(arms[percentBranch(GOALED.id, 'ab', SPLIT, m.id!) as 'offer' | 'holdout']);
      for (const step of ['email', 'reminder'] as const) {
        const at = sent.get(m.email)?.get(step);
        if (at === undefined) continue;
        steps[step].members++;
        const t = conversion && Date.parse(conversion.time);
        if (t !== undefined && at <= t && t - at <= WINDOW_MS) {
          steps[step].converted++;
          steps[step].revenue += conversion!.total;
        }
      }
    }
    return { audience, control, arms, steps };
  }

  it('runs to the end and measures the goal', () => {
    expect([run.status, run.error]).toEqual(['succeeded', undefined]);
    expect(run.conversions).toMatchObject({ available: true, goal: { event: 'order.placed', within: '3d' } });
  });

  it('counts the audience and the control group: members, conversions once per member, revenue of the first order', () => {
    const r = recount();
    const c = run.conversions;
    expect(r.audience.converted).toBeGreaterThan(30);
    expect(r.control.converted).toBeGreaterThan(5);
    expect({ members: c.members, converted: c.converted, revenue: c.revenue }).toEqual(r.audience);
    expect(c.conversionRate.value).toBeCloseTo(r.audience.converted / r.audience.members, 12);
    expect({ members: c.controlGroup.members, converted: c.controlGroup.converted, revenue: c.controlGroup.revenue }).toEqual(r.control);
  });

  it('credits each deliver step with the conversions within the window after its message', () => {
    const r = recount();
    for (const step of ['email', 'reminder'] as const) {
      const s = run.conversions.steps[step];
      expect({ step, sent: s.sent, converted: s.converted, revenue: s.revenue }).toEqual({ step, ...{ sent: r.steps[step].members, converted: r.steps[step].converted, revenue: r.steps[step].revenue } });
    }
    // Orders between the email and the reminder: the email has conversions the reminder cannot have.
    expect(r.steps.email.converted).toBeGreaterThan(r.steps.reminder.converted);
  });

  it("compares the split's variant with its holdout and the audience with the control group", () => {
    const r = recount();
    const [control, split] = run.conversions.experiments;
    expect(control.kind).toBe('campaign-control-group');
    expect(control.arms.map((a: any) => [a.id, a.entries, a.conversions, a.revenue])).toEqual([
      ['control-group', r.control.members, r.control.converted, r.control.revenue],
      ['audience', r.audience.members, r.audience.converted, r.audience.revenue],
    ]);
    const diff = r.audience.converted / r.audience.members - r.control.converted / r.control.members;
    expect(control.comparisons[0].sequential.difference).toBeCloseTo(diff, 12);
    expect(split).toMatchObject({ kind: 'campaign-split', node: 'ab', control: 'holdout' });
    expect(split.arms.map((a: any) => [a.id, a.entries, a.conversions, a.revenue])).toEqual([
      ['offer', r.arms.offer.members, r.arms.offer.converted, r.arms.offer.revenue],
      ['holdout', r.arms.holdout.members, r.arms.holdout.converted, r.arms.holdout.revenue],
    ]);
    const [comparison] = split.comparisons;
    expect(comparison.sequential.interval.lower).toBeLessThan(comparison.sequential.difference);
    expect(conversionLines(run.conversions).join('\n')).toMatch(/audience vs control group: audience vs control-group: uplift/);
  });

  it("tags each campaign email with its split variant", () => {
    const emails = ctx.stack.outbox.list({ channel: 'email' }).filter((x) => x.journeyId === `campaign:${GOALED.id}`);
    expect(emails.length).toBeGreaterThan(100);
    expect(new Set(emails.map((m) => m.tags?.variant))).toEqual(new Set(['offer']));
  });
});
