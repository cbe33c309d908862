import { createHook } from 'node:async_hooks';
import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import { VirtualClock } from '../../lambdas/local/virtual-clock';
import { AUDIENCE_SCAN, startLocalStack } from '../../lambdas/local/stack';
import { buildCatalog } from '../../lambdas/core/journey/catalog';
import { bodies, openStack } from './local-stack';

const START = '2026-12-01T09:00:00.000Z';
const at = (offsetMs: number) => new Date(Date.parse(START) + offsetMs).toISOString();
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const shopper = (n: number) => ({ email: `vt${n}@example.com` });
const profileOf = (n: number) => newProfileId('email', `vt${n}@example.com`);
const cartAdded = (n: number) => ({
  id: `vt-cart-${n}`,
  identities: shopper(n),
  attributes: { firstName: `Vt${n}`, pushToken: `device-${n}` },
  properties: { action: 'item-added', cartId: `vt-cart-${n}`, productIds: [`vt-sku-${n}`], cartUrl: `https://shop.example/cart/${n}`, itemCount: 1 },
});
const registered = (n: number, startsAt: string, endsAt: string) => ({
  id: `vt-registration-${n}`,
  identities: shopper(n),
  attributes: { timezone: 'UTC' },
  properties: { eventName: `Night ${n}`, startsAt, endsAt, url: `https://shop.example/events/${n}`, surveyUrl: `https://shop.example/survey/${n}` },
});

describe.each(['dynalite', 'memory'] as const)('the local stack on a virtual clock (%s stores): journeys move only when time is told to', (storage) => {
  const clock = new VirtualClock(START);
  let ctx: Awaited<ReturnType<typeof openStack>>;
  beforeAll(async () => {
    ctx = await openStack(1, { clock, storage });
  });
  afterAll(() => ctx.stack.stop());

  const runOf = (journeyId: string, n: number) => ctx.stack.executions.list({ journeyId, profileId: profileOf(n) });

  it("fires a wait-for-event's timeout at the virtual time the journey says, not before", async () => {
    const from = clock.nowMs();
    await ctx.put('cart.updated', cartAdded(1));
    await ctx.stack.settle();
    const [run] = runOf('cart-abandonment', 1);
    expect(ctx.stack.executions.parkedAt(run.executionArn)).toEqual(['wait-for-order']);
    await clock.advance(59 * MINUTE);
    expect(ctx.stack.outbox.list({ profileId: profileOf(1) })).toEqual([]);
    await clock.advance('1m');
    const [reminder] = ctx.stack.outbox.list({ profileId: profileOf(1) });
    expect(reminder).toMatchObject({ nodeId: 'reminder-email', time: new Date(from + HOUR).toISOString() });
    expect(ctx.stack.executions.parkedAt(run.executionArn)).toEqual(['wait-for-offer-signal']);
    // The 3-day timeout of the second wait, and nothing else, ends the run.
    await clock.advance(3 * DAY - 1);
    expect(ctx.stack.outbox.list({ profileId: profileOf(1) })).toHaveLength(1);
    await clock.advance(1);
    const messages = ctx.stack.outbox.list({ profileId: profileOf(1) });
    expect(bodies(messages)).toEqual(['email:reminder-email', 'email:last-chance-email']);
    expect(messages[1].time).toBe(new Date(from + HOUR + 3 * DAY).toISOString());
    const [done] = runOf('cart-abandonment', 1);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.stopDate).toBe(new Date(from + HOUR + 3 * DAY).toISOString());
    expect(done.trail.find((s) => s.state === 'last-chance-email')?.at).toBe(new Date(from + HOUR + 3 * DAY).toISOString());
  });

  it('resumes a parked run on an event that comes at any virtual time before the timeout', async () => {
    await ctx.put('cart.updated', cartAdded(2));
    await clock.advance(59 * MINUTE + 59_000);
    await ctx.put('order.placed', { id: 'vt-order-2', identities: shopper(2), properties: { cartId: 'vt-cart-2', total: 10 } });
    await ctx.stack.settle();
    const [run] = runOf('cart-abandonment', 2);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.path).toEqual(['wait-for-order', 'converted']);
    expect(ctx.stack.outbox.list({ profileId: profileOf(2) })).toEqual([]);
  });

  it('fires until-waits at the times computed from the event, and runUntilIdle takes every run to its end', async () => {
    const now = clock.nowMs();
    const startsAt = new Date(Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), new Date(now).getUTCDate() + 3, 18)).toISOString();
    const endsAt = new Date(Date.parse(startsAt) + 3 * HOUR).toISOString();
    await ctx.put('event.registered', registered(3, startsAt, endsAt));
    await ctx.stack.settle();
    expect(ctx.stack.outbox.list({ profileId: profileOf(3) })).toEqual([]);
    const stoppedAt = await clock.runUntilIdle();
    const messages = ctx.stack.outbox.list({ profileId: profileOf(3), channel: 'email' });
    // The day before at 10:00 in the guest's zone (UTC), and 2 hours after the end.
    expect(messages.map((m) => [m.nodeId, m.time])).toEqual(
      expect.arrayContaining([
        ['reminder-email', new Date(Date.parse(startsAt) - DAY - 8 * HOUR).toISOString()],
        ['thank-you-email', new Date(Date.parse(endsAt) + 2 * HOUR).toISOString()],
      ]),
    );
    expect(runOf('event-reminder', 3)[0].status).toBe('SUCCEEDED');
    expect(ctx.stack.executions.list({ status: 'RUNNING' })).toEqual([]);
    expect(stoppedAt.toISOString()).toBe(new Date(Date.parse(endsAt) + 2 * HOUR).toISOString());
  });

  it('waits out retry intervals on the virtual clock: a throttled send goes out after the interval', async () => {
    ctx.stack.outbox.inject({ channel: 'email', error: 'SesV2.TooManyRequestsException' });
    const from = clock.nowMs();
    await ctx.put('cart.updated', cartAdded(4));
    await clock.advance(HOUR);
    expect(ctx.stack.outbox.list({ profileId: profileOf(4) })).toEqual([]);
    // DELIVERY_RETRY: 2 s for the first retry (no jitter in virtual time).
    await clock.advance('2s');
    const [reminder] = ctx.stack.outbox.list({ profileId: profileOf(4) });
    expect(reminder).toMatchObject({ nodeId: 'reminder-email', time: new Date(from + HOUR + 2000).toISOString() });
    await clock.runUntilIdle();
  });

  it('stamps events, runs and dead letters with virtual time', async () => {
    const now = clock.now().toISOString();
    await ctx.put('cart.updated', cartAdded(5));
    await ctx.stack.settle();
    const [run] = runOf('cart-abandonment', 5);
    expect(run.startDate).toBe(now);
    const profile = (await fetch(`${ctx.stack.url}/profiles/${profileOf(5)}`).then((r) => r.json())) as { updatedAt?: string; createdAt?: string };
    expect(JSON.stringify(profile)).toContain(now.slice(0, 16));
    await clock.runUntilIdle();
  });
});

describe('the hourly segment re-check on a virtual clock', () => {
  const clock = new VirtualClock(START);
  let ctx: Awaited<ReturnType<typeof openStack>>;
  beforeAll(async () => {
    ctx = await openStack(1, { clock, recheckIntervalMs: HOUR });
  });
  afterAll(() => ctx.stack.stop());

  it('runs once an hour of virtual time, never while idle, and never keeps runUntilIdle going', async () => {
    expect(ctx.stack.executions.list({ journeyId: AUDIENCE_SCAN })).toEqual([]);
    await clock.advance(HOUR - 1);
    expect(ctx.stack.executions.list({ journeyId: AUDIENCE_SCAN })).toEqual([]);
    await clock.advance(1);
    await clock.advance(2 * HOUR);
    const runs = ctx.stack.executions.list({ journeyId: AUDIENCE_SCAN });
    expect(runs.map((r) => r.startDate)).toEqual([at(HOUR), at(2 * HOUR), at(3 * HOUR)]);
    expect(runs.every((r) => r.status === 'SUCCEEDED')).toBe(true);
    const stoppedAt = await clock.runUntilIdle();
    expect(stoppedAt.toISOString()).toBe(at(3 * HOUR));
  });
});

/** A journey whose wait outlasts its global timeout: Step Functions ends it TIMED_OUT when the timeout passes. */
const outlasting = buildCatalog([
  {
    path: 'outlasting.json',
    text: JSON.stringify({
      schemaVersion: 1,
      id: 'outlasting',
      name: 'Outlasting',
      entry: { kind: 'event', event: 'vt.started' },
      settings: { messageClass: 'transactional', timeout: '2d' },
      start: 'long-wait',
      nodes: [
        { id: 'long-wait', kind: 'wait', duration: '3d', next: 'late-email' },
        { id: 'late-email', kind: 'send', channel: 'email', template: { subject: 'Late', text: 'Late' }, next: 'done' },
        { id: 'done', kind: 'exit' },
      ],
    }),
  },
]).journeys;

describe("a journey's global timeout on a virtual clock", () => {
  const clock = new VirtualClock(START);
  let ctx: Awaited<ReturnType<typeof openStack>>;
  beforeAll(async () => {
    ctx = await openStack(1, { clock, journeys: outlasting });
  });
  afterAll(() => ctx.stack.stop());

  it('times the run out when its timeout passes, before the longer wait ends, and sends nothing', async () => {
    await ctx.put('vt.started', { id: 'vt-start-1', identities: shopper(9) });
    await ctx.stack.settle();
    await clock.advance(2 * DAY - 1);
    expect(ctx.stack.executions.list({ journeyId: 'outlasting' })[0].status).toBe('RUNNING');
    await clock.runUntilIdle();
    const [run] = ctx.stack.executions.list({ journeyId: 'outlasting' });
    expect(run).toMatchObject({ status: 'TIMED_OUT', stopDate: at(2 * DAY) });
    expect(ctx.stack.outbox.list()).toEqual([]);
    expect(clock.now().toISOString()).toBe(at(2 * DAY));
  });
});

describe('a local stack without an HTTP server (simulation)', () => {
  it('answers the API in process, as over HTTP', async () => {
    const clock = new VirtualClock(START);
    const stack = await startLocalStack({ listen: false, clock });
    try {
      const sent = await stack.request({ method: 'POST', path: '/events', body: JSON.stringify({ type: 'cart.updated', ...cartAdded(10) }) });
      expect(sent.statusCode).toBe(202);
      await stack.settle();
      const profile = await stack.request({ method: 'GET', path: `/profiles/${profileOf(10)}` });
      expect(profile.statusCode).toBe(200);
      expect(JSON.parse(profile.body)).toMatchObject({ id: profileOf(10), attributes: { firstName: 'Vt10' } });
      expect((await stack.request({ method: 'GET', path: '/nowhere' })).statusCode).toBe(404);
      expect(stack.executions.parkedAt(stack.executions.list({ journeyId: 'cart-abandonment' })[0].executionArn)).toEqual(['wait-for-order']);
    } finally {
      await stack.stop();
    }
  });
});

describe('runs that end while parked on virtual time', () => {
  it("settle their waiting steps, so the runner's real task timers are cleared (no timer outlives the run)", async () => {
    const clock = new VirtualClock(START);
    const stack = await startLocalStack({ listen: false, clock, storage: 'memory' });
    // The runner's real task timers: Node timers of MAX_TIMER_SECONDS (2,000,000 s), alive until cleared or fired.
    const live = new Set<number>();
    const hook = createHook({
      init: (id, type, _trigger, resource) => {
        if (type === 'Timeout' && (resource as { _idleTimeout?: number })._idleTimeout === 2_000_000_000) live.add(id);
      },
      destroy: (id) => live.delete(id),
    }).enable();
    const timers = () => live.size;
    try {
      const before = timers();
      // One run parked on a retry interval (the reminder throttled), one on the wait-for-event.
      stack.outbox.inject({ channel: 'email', error: 'SesV2.TooManyRequestsException' });
      stack.bus.putEvents([{ Source: 'test.shop', DetailType: 'cart.updated', Detail: JSON.stringify(cartAdded(20)) }]);
      await clock.advance(HOUR);
      stack.bus.putEvents([{ Source: 'test.shop', DetailType: 'cart.updated', Detail: JSON.stringify(cartAdded(21)) }]);
      await stack.settle();
      const running = stack.executions.list({ status: 'RUNNING' });
      expect(running).toHaveLength(2);
      expect(timers()).toBeGreaterThan(before);
      for (const run of running) await stack.executions.stop(run.executionArn);
      await new Promise((resolve) => setImmediate(resolve));
      expect(stack.executions.list({ status: 'ABORTED' })).toHaveLength(2);
      await new Promise((resolve) => setImmediate(resolve));
      expect(timers()).toBe(before);
      expect(clock.pending()).toBe(0);
    } finally {
      hook.disable();
      await stack.stop();
    }
  });
});
