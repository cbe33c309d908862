import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import { call } from './http';
import { bodies, openVirtualStack, parkedStates } from './local-stack';

const email = (n: number) => `browser${n}@example.com`;
const profileOf = (n: number) => newProfileId('email', email(n));
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const iso = (ms: number) => new Date(ms).toISOString();
/** A product view dated `time` (the stack's virtual now: events dated ahead of its clock are refused). */
const viewed = (n: number, category: string, time: Date, attributes: Record<string, unknown> = {}) => ({
  id: `view-${n}-${category}`,
  time: time.toISOString(),
  identities: { email: email(n) },
  attributes,
  properties: { category, productName: category === 'camera' ? 'Lumix G9' : 'Rain jacket', productUrl: `https://shop.example/p/${n}`, price: 899 },
});

describe('next-best-offer playbook (decisioning in a journey, after two hours without an order)', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    ctx = await openVirtualStack();
  });
  afterAll(() => ctx.stack.stop());

  it('emails a first-time browser the best offer they qualify for (free shipping), and logs the decision', async () => {
    const from = ctx.clock.nowMs();
    await ctx.put('product.viewed', viewed(1, 'jacket', ctx.clock.now()));
    // The offer waits out the 2-hour window for an order: nothing a moment before, the email at 2 hours.
    await ctx.clock.advance(2 * HOUR - 1);
    expect(ctx.stack.outbox.list({ profileId: profileOf(1) })).toEqual([]);
    expect(await parkedStates(ctx.stack, 'next-best-offer', profileOf(1))).toEqual(['wait-for-order']);
    await ctx.clock.advance(1);
    const [run] = ctx.stack.executions.list({ journeyId: 'next-best-offer', profileId: profileOf(1) });

    expect(run.status).toBe('SUCCEEDED');
    const sent = ctx.stack.outbox.list({ profileId: profileOf(1) });
    expect(bodies(sent)).toEqual(['email:offer-email']);
    expect(sent[0].time).toBe(iso(from + 2 * HOUR));
    expect(sent[0].subject).toBe('Free shipping, this week only');
    expect(sent[0].body).toMatch(/^No shipping costs on your next order until Sunday\.\n\nStill thinking about Rain jacket\? https:\/\/shop\.example\/p\/1/);
    const log = await call(ctx.stack, 'GET', `/profiles/${profileOf(1)}/decisions`);
    expect(log.body.decisions).toHaveLength(1);
    const decision = log.body.decisions[0];
    expect(decision.origin).toBe('journey:next-best-offer:pick-email-offer');
    const lines = Object.fromEntries(decision.placements['email-hero'].explanation.map((l: { offerId: string }) => [l.offerId, l]));
    expect(lines['free-shipping']).toMatchObject({ eligible: true, chosen: true, score: 40 });
    expect(lines['accessory-bundle']).toMatchObject({ eligible: false, reason: 'eligibility rule does not hold', chosen: false });
    expect(lines['gold-double-points']).toMatchObject({ eligible: false, reason: 'not in segment "loyalty-gold"' });
  });

  it('pushes a returning camera buyer with the app the accessory bundle, ranked up by order history and the viewed category', async () => {
    await ctx.put('order.placed', { id: 'order-2', time: ctx.clock.now().toISOString(), identities: { email: email(2) }, attributes: { pushToken: 'device-2' }, properties: { total: 40 } });
    // The view comes a day after the order (an order dated at the view's very time would count as one after it).
    await ctx.clock.advance(24 * HOUR);
    await ctx.put('product.viewed', viewed(2, 'camera', ctx.clock.now()));
    await ctx.clock.advance(2 * HOUR);
    const [run] = ctx.stack.executions.list({ journeyId: 'next-best-offer', profileId: profileOf(2) });

    expect(run.status).toBe('SUCCEEDED');
    const sent = ctx.stack.outbox.list({ profileId: profileOf(2), journeyId: 'next-best-offer' });
    expect(bodies(sent)).toEqual(['push:offer-push']);
    expect(sent[0]).toMatchObject({ recipient: 'device-2', subject: 'Complete your kit', body: '25% off the accessory bundle.', url: 'https://shop.example/p/2' });
    const log = await call(ctx.stack, 'GET', `/profiles/${profileOf(2)}/decisions`);
    const push = log.body.decisions[0].placements.push;
    // 30 + 10 × 1 order + 25 for a camera.
    expect(push.offers[0]).toMatchObject({ offerId: 'accessory-bundle', score: 65 });
  });

});

describe('next-best-offer playbook: an order within the window', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    ctx = await openVirtualStack();
  });
  afterAll(() => ctx.stack.stop());

  it('sends nothing when the order comes within two hours', async () => {
    await ctx.put('product.viewed', viewed(3, 'jacket', ctx.clock.now()));
    // The order comes a minute before the window closes.
    await ctx.clock.advance(2 * HOUR - MINUTE);
    expect(await parkedStates(ctx.stack, 'next-best-offer', profileOf(3))).toEqual(['wait-for-order']);
    await ctx.put('order.placed', { id: 'order-3', time: ctx.clock.now().toISOString(), identities: { email: email(3) }, properties: { total: 120 } });
    const [run] = ctx.stack.executions.list({ journeyId: 'next-best-offer', profileId: profileOf(3) });

    expect(run.status).toBe('SUCCEEDED');
    expect(run.path).toEqual(['wait-for-order', 'bought']);
    // Nothing goes out later either: the run has ended.
    await ctx.clock.advance(HOUR);
    expect(ctx.stack.outbox.list({ profileId: profileOf(3), journeyId: 'next-best-offer' })).toEqual([]);
  });
});
