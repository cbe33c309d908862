import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import { buildCatalog } from '../../lambdas/core/journey/catalog';
import { call, problemFields, type HttpReply } from './http';
import { openVirtualStack, parkedStates } from './local-stack';

const email = (n: number) => `visitor${n}@example.com`;
const profileOf = (n: number) => newProfileId('email', email(n));
const cartAdded = (n: number) => ({
  type: 'cart.updated',
  identities: { email: email(n) },
  properties: { action: 'item-added', cartId: `cart-${n}`, productIds: [`sku-${n}`], cartUrl: `https://shop.example/cart/${n}` },
});

function expectProblem(reply: HttpReply, status: number): void {
  expect(reply.status).toBe(status);
  expect(reply.contentType).toBe('application/problem+json');
  expect(reply.body).toMatchObject({ status, title: expect.any(String), detail: expect.any(String) });
}

describe('REST API on the local stack', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  /** Everything a refused request must leave untouched. */
  const written = () => ({ executions: ctx.stack.executions.list().length, messages: ctx.stack.outbox.size, delivered: ctx.stack.bus.delivered });
  beforeAll(async () => {
    ctx = await openVirtualStack();
  });
  afterAll(() => ctx.stack.stop());

  describe('GET /journeys', () => {
    it('lists the shipped journeys with their entry and compiled version', async () => {
      const reply = await call(ctx.stack, 'GET', '/journeys');

      expect(reply.status).toBe(200);
      const journeys = reply.body.journeys as { id: string; version: string; entry: { kind: string }; stateMachineArn: string }[];
      expect(journeys.map((j) => j.id).sort()).toEqual(['cart-abandonment', 'cross-sell', 'event-reminder', 'loyalty-member-day', 'loyalty-tier', 'manual-outreach', 'next-best-offer', 'quote-follow-up', 'welcome']);
      for (const journey of journeys) {
        const compiled = ctx.stack.journeys.find((c) => c.journey.id === journey.id)!;
        expect(journey.version).toMatch(/^[0-9a-f]{8,}$/);
        expect(journey.version).toBe(compiled.version);
        expect(journey.stateMachineArn).toBe(ctx.stack.executions.stateMachineArn(journey.id));
        expect(journey.entry.kind).toBe(journey.id === 'manual-outreach' ? 'api' : journey.id.startsWith('loyalty-') ? 'segment' : 'event');
      }
    });
  });

  describe('POST /events', () => {
    it('accepts an event with platform defaults for source, id and time, and starts the journey it enters', async () => {
      const reply = await call(ctx.stack, 'POST', '/events', cartAdded(1));

      expect(reply.status).toBe(202);
      expect(reply.body).toMatchObject({ type: 'cart.updated', status: 'accepted', id: expect.any(String) });
      expect(await parkedStates(ctx.stack, 'cart-abandonment', profileOf(1))).toEqual(['wait-for-order']);
      const [run] = ctx.stack.executions.list({ journeyId: 'cart-abandonment', profileId: profileOf(1) });
      const event = run.input.event as { id: string; source: string; time: string };
      // The default time is the receipt time on the stack's clock (which has not moved).
      expect(event).toMatchObject({ id: reply.body.id, source: 'api', time: ctx.clock.now().toISOString() });

      const order = await call(ctx.stack, 'POST', '/events', { type: 'order.placed', id: 'order-1', time: '2026-01-02T03:04:05+01:00', source: 'pos', identities: { email: email(1) }, properties: { cartId: 'cart-1' } });
      expect(order.status).toBe(202);
      expect(order.body.id).toBe('order-1');
      await ctx.stack.settle();
      const [ended] = ctx.stack.executions.list({ journeyId: 'cart-abandonment', profileId: profileOf(1) });
      expect(ended.status).toBe('SUCCEEDED');
      expect(ended.path).toEqual(['wait-for-order', 'converted']);
    });

    it.each([
      { problem: 'no identities', body: { ...cartAdded(2), identities: undefined }, field: 'identities' },
      { problem: 'empty identities', body: { ...cartAdded(2), identities: {} }, field: 'identities' },
      { problem: 'a time that is not ISO 8601', body: { ...cartAdded(2), time: 'yesterday at noon' }, field: 'time' },
      { problem: 'a source reserved for the platform', body: { ...cartAdded(2), source: 'waymark.journeys' }, field: 'source' },
      { problem: 'a source reserved for AWS services', body: { ...cartAdded(2), source: 'aws.ses' }, field: 'source' },
      { problem: 'no type', body: { ...cartAdded(2), type: undefined }, field: 'type' },
      { problem: 'a body that is not JSON', body: '{"type": "cart.updated", ', field: '(body)' },
      { problem: 'a JSON array', body: [cartAdded(2)], field: '(body)' },
    ])('refuses an event with $problem as 400 naming the field, and routes nothing', async ({ body, field }) => {
      const before = written();
      const reply = await call(ctx.stack, 'POST', '/events', body);

      expectProblem(reply, 400);
      expect(problemFields(reply)).toContain(field);
      await ctx.stack.bus.idle();
      expect(written()).toEqual(before);
      expect(await ctx.stack.profiles.get(profileOf(2))).toBeUndefined();
    });
  });

  describe('invalid events on the bus', () => {
    it('keeps an invalid event put on the bus with its reasons, for GET /events/rejected, and starts nothing', async () => {
      const before = written();
      await ctx.put('cart.updated', { id: 'bad-cart-3', properties: { action: 'item-added', cartId: 'cart-3' } });
      await ctx.put('cart.updated', { id: 'bad-cart-4', time: 'last tuesday', identities: { email: email(4) }, properties: { action: 'item-added', cartId: 'cart-4' } });

      const reply = await call(ctx.stack, 'GET', '/events/rejected');
      expect(reply.status).toBe(200);
      const rejected = reply.body.events as { origin: string; errors: { field: string }[]; raw: { 'detail-type': string; source: string; detail: { id: string } } }[];
      const byId = (id: string) => rejected.find((r) => r.raw.detail.id === id);
      expect(byId('bad-cart-3')).toMatchObject({ origin: 'bus', raw: { 'detail-type': 'cart.updated', source: 'test.shop' } });
      expect(byId('bad-cart-3')!.errors.map((e) => e.field)).toEqual(['detail.identities']);
      expect(byId('bad-cart-4')!.errors.map((e) => e.field)).toEqual(['detail.time']);
      expect(ctx.stack.executions.list().length).toBe(before.executions);
      expect(await ctx.stack.profiles.get(profileOf(4))).toBeUndefined();
    });

    it('lists the newest rejected events first, as many as the limit asks for', async () => {
      // Rejections are ordered by their arrival time, to the millisecond (of the stack's clock).
      await ctx.clock.advance(5);
      await ctx.put('cart.updated', { id: 'bad-cart-newest', properties: {} });
      const reply = await call(ctx.stack, 'GET', '/events/rejected?limit=1');

      expect(reply.status).toBe(200);
      expect(reply.body.events.map((r: { raw: { detail: { id: string } } }) => r.raw.detail.id)).toEqual(['bad-cart-newest']);
    });

    it.each(['abc', '0', '-1'])('answers 400 naming the limit for limit=%s', async (limit) => {
      const reply = await call(ctx.stack, 'GET', `/events/rejected?limit=${limit}`);

      expectProblem(reply, 400);
      expect(problemFields(reply)).toContain('limit');
    });

    it('routes nothing from a platform source put on the bus, and does not count it as rejected', async () => {
      const before = written();
      await ctx.put('cart.updated', { ...cartAdded(5), id: 'platform-5' }, 'waymark.journeys');

      expect(written()).toEqual(before);
      const rejected = (await call(ctx.stack, 'GET', '/events/rejected')).body.events as { raw: { detail: { id: string } } }[];
      expect(rejected.map((r) => r.raw.detail.id)).not.toContain('platform-5');
    });
  });

  describe('POST /journeys/{id}/trigger', () => {
    it('answers 404 for an unknown journey, creating no profile', async () => {
      const before = written();
      const reply = await call(ctx.stack, 'POST', '/journeys/no-such-journey/trigger', { identities: { email: email(6) }, context: { text: 'hi' } });

      expectProblem(reply, 404);
      expect(reply.body.detail).toContain('no-such-journey');
      expect(written()).toEqual(before);
      expect(await ctx.stack.profiles.get(profileOf(6))).toBeUndefined();
    });

    it('answers 404 for an unknown profile id', async () => {
      const before = written();
      const reply = await call(ctx.stack, 'POST', '/journeys/manual-outreach/trigger', { profileId: 'p-000000000000000000000000', context: { text: 'hi' } });

      expectProblem(reply, 404);
      expect(reply.body.detail).toContain('p-000000000000000000000000');
      expect(written()).toEqual(before);
    });

    it('answers 409 for a journey that starts on events, creating no profile', async () => {
      const before = written();
      const reply = await call(ctx.stack, 'POST', '/journeys/welcome/trigger', { identities: { email: email(7) } });

      expectProblem(reply, 409);
      expect(reply.body.detail).toContain('welcome');
      expect(written()).toEqual(before);
      expect(await ctx.stack.profiles.get(profileOf(7))).toBeUndefined();
    });

    it.each([
      { problem: 'both a profile id and identities', body: { profileId: 'p-1', identities: { email: email(8) } }, field: 'profileId' },
      { problem: 'neither a profile id nor identities', body: { context: { text: 'hi' } }, field: 'profileId' },
      { problem: 'no body at all', body: undefined, field: 'profileId' },
      { problem: 'a context that is not an object', body: { identities: { email: email(8) }, context: 'hi' }, field: 'context' },
      { problem: 'a context over 64 KB', body: { identities: { email: email(8) }, context: { text: 'x'.repeat(70_000) } }, field: 'context' },
      { problem: 'an empty idempotency key', body: { identities: { email: email(8) }, idempotencyKey: '' }, field: 'idempotencyKey' },
      { problem: 'an empty identity value', body: { identities: { email: '' } }, field: 'identities.email' },
      { problem: 'a body that is not JSON', body: '{"identities": ', field: '(body)' },
    ])('answers 400 naming the field for $problem, and writes nothing', async ({ body, field }) => {
      const before = written();
      const reply = await call(ctx.stack, 'POST', '/journeys/manual-outreach/trigger', body);

      expectProblem(reply, 400);
      expect(problemFields(reply)).toContain(field);
      expect(written()).toEqual(before);
      expect(await ctx.stack.profiles.get(profileOf(8))).toBeUndefined();
    });

    it('answers 400 naming an unknown field of the request, and writes nothing', async () => {
      const before = written();
      const reply = await call(ctx.stack, 'POST', '/journeys/manual-outreach/trigger', { identities: { email: email(8) }, contxt: { text: 'typo' } });

      expectProblem(reply, 400);
      expect(problemFields(reply)).toContain('contxt');
      expect(written()).toEqual(before);
    });
  });
});

describe('REST API: a trigger refused by the re-entrance policy', () => {
  // An API-triggered journey that admits a profile once, ever; the shipped manual-outreach admits always.
  const once = {
    schemaVersion: 1,
    id: 'one-time-offer',
    name: 'One-time offer',
    entry: { kind: 'api' },
    settings: { reentry: 'never' },
    start: 'offer-email',
    nodes: [
      { id: 'offer-email', kind: 'send', channel: 'email', template: { subject: 'Once only', text: '{{ context.text }}' }, next: 'done' },
      { id: 'done', kind: 'exit' },
    ],
  };
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    const { journeys, problems } = buildCatalog([{ path: 'one-time-offer.json', text: JSON.stringify(once) }]);
    expect(problems).toEqual([]);
    ctx = await openVirtualStack({ journeys });
  });
  afterAll(() => ctx.stack.stop());

  it('answers 409 to a second trigger for the same profile and starts nothing, while a repeated idempotency key still gets 200', async () => {
    const first = await call(ctx.stack, 'POST', '/journeys/one-time-offer/trigger', { identities: { email: email(9) }, context: { text: 'Just for you.' }, idempotencyKey: 'offer-9' });
    expect(first.status).toBe(202);
    // The journey has no wait: once the stack has settled, the run has ended.
    await ctx.stack.settle();
    expect(ctx.stack.executions.get(first.body.executionArn)?.status).toBe('SUCCEEDED');

    const again = await call(ctx.stack, 'POST', '/journeys/one-time-offer/trigger', { identities: { email: email(9) }, context: { text: 'Just for you.' }, idempotencyKey: 'offer-9' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'already-started', executionArn: first.body.executionArn });

    const second = await call(ctx.stack, 'POST', '/journeys/one-time-offer/trigger', { profileId: profileOf(9), context: { text: 'Once more?' } });
    expectProblem(second, 409);
    expect(second.body.detail).toContain('reentry-never');
    expect(ctx.stack.executions.list({ profileId: profileOf(9) })).toHaveLength(1);
    expect(ctx.stack.outbox.list({ profileId: profileOf(9) }).map((m) => m.body)).toEqual(['Just for you.']);
  });
});
