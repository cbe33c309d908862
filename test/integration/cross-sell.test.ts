import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import { bodies, finished, openStack, waitingAt } from './local-stack';

const DAY = 86_400_000;

const email = (n: number) => `buyer${n}@example.com`;
const profileOf = (n: number) => newProfileId('email', email(n));
const orderPlaced = (n: number, orderId: string, productType: string, productName?: string) => ({
  id: `event-${orderId}`,
  identities: { email: email(n) },
  properties: { orderId, productType, ...(productName ? { productName } : {}) },
});
const addonPurchased = (n: number, orderId: string) => ({ id: `addon-${orderId}`, identities: { email: email(n) }, properties: { orderId, addon: 'extra' } });

describe('cross-sell playbook (recommendations, 1 virtual day = 86 ms)', () => {
  let ctx: Awaited<ReturnType<typeof openStack>>;
  beforeAll(async () => {
    ctx = await openStack(1_000_000);
  });
  afterAll(() => ctx.stack.stop());

  it('recommends roadside assistance for car insurance, contents cover for home insurance and an accessory for a camera, two weeks on', async () => {
    await ctx.put('order.placed', orderPlaced(1, 'car-1', 'car-insurance'));
    await ctx.put('order.placed', orderPlaced(2, 'home-2', 'home-insurance'));
    await ctx.put('order.placed', orderPlaced(3, 'cam-3', 'camera', 'Lumix G9'));
    const runs = await finished(ctx.stack, 'cross-sell');

    expect(runs.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    const car = ctx.stack.outbox.list({ profileId: profileOf(1) });
    const home = ctx.stack.outbox.list({ profileId: profileOf(2) });
    const camera = ctx.stack.outbox.list({ profileId: profileOf(3) });
    expect(bodies(car)).toEqual(['email:roadside-email']);
    expect(car[0]).toMatchObject({ recipient: email(1), subject: 'Add roadside assistance to your car insurance' });
    expect(car[0].body).toMatch(/^Breakdown cover for your policy car-1, from 4 a month\.\n\nUnsubscribe: http:\/\/127\.0\.0\.1:\d+\/unsubscribe\?token=/);
    expect(bodies(home)).toEqual(['email:contents-email']);
    expect(home[0].body).toContain('home policy home-2');
    expect(bodies(camera)).toEqual(['email:accessory-email']);
    expect(camera[0]).toMatchObject({ subject: 'Made for your Lumix G9', body: 'Customers who bought Lumix G9 also got a spare battery and a case.' });
  });

  it('starts nothing for a product type outside the list, or an order without one', async () => {
    await ctx.put('order.placed', orderPlaced(4, 'shoes-4', 'shoes'));
    await ctx.put('order.placed', { id: 'event-untyped-4', identities: { email: email(4) }, properties: { orderId: 'untyped-4' } });

    expect(ctx.stack.executions.list({ journeyId: 'cross-sell', profileId: profileOf(4) })).toEqual([]);
    // The profile was still created: the events were routed, just not entered.
    expect(await ctx.stack.profiles.get(profileOf(4))).toBeDefined();
  });
});

describe('cross-sell playbook (add-on purchases and re-entrance, 1 virtual day = 0.86 s)', () => {
  let ctx: Awaited<ReturnType<typeof openStack>>;
  let shift = 0;
  beforeAll(async () => {
    ctx = await openStack(100_000, { clock: { now: () => new Date(Date.now() + shift) } });
  });
  afterAll(() => ctx.stack.stop());

  it('sends nothing when the add-on for this order is bought, and keeps waiting when one for another order is', async () => {
    await ctx.put('order.placed', orderPlaced(5, 'car-5', 'car-insurance'));
    await waitingAt(ctx.stack, 'cross-sell', profileOf(5), 'wait-14-days');
    await ctx.put('addon.purchased', addonPurchased(5, 'car-older'));
    const [waiting] = ctx.stack.executions.list({ journeyId: 'cross-sell', profileId: profileOf(5) });
    expect(ctx.stack.executions.parkedAt(waiting.executionArn)).toEqual(['wait-14-days']);

    await ctx.put('addon.purchased', addonPurchased(5, 'car-5'));
    const [run] = await finished(ctx.stack, 'cross-sell', profileOf(5));
    expect(run.status).toBe('SUCCEEDED');
    expect(run.path).toEqual(['wait-14-days', 'already-bought']);
    expect(ctx.stack.outbox.list({ profileId: profileOf(5) })).toEqual([]);
  });

  it('lets a customer in again only once the previous run has ended and 30 days have passed since it entered', async () => {
    const runsOf = () => ctx.stack.executions.list({ journeyId: 'cross-sell', profileId: profileOf(6) });
    await ctx.put('order.placed', orderPlaced(6, 'car-6', 'car-insurance'));
    await waitingAt(ctx.stack, 'cross-sell', profileOf(6), 'wait-14-days');

    await ctx.put('order.placed', orderPlaced(6, 'home-6', 'home-insurance'));
    expect(runsOf()).toHaveLength(1);

    await ctx.put('addon.purchased', addonPurchased(6, 'car-6'));
    await finished(ctx.stack, 'cross-sell', profileOf(6));
    await ctx.put('order.placed', orderPlaced(6, 'cam-6', 'camera'));
    expect(runsOf()).toHaveLength(1);

    shift = 31 * DAY;
    await ctx.put('order.placed', orderPlaced(6, 'cam-6b', 'camera'));
    const runs = runsOf();
    expect(runs).toHaveLength(2);
    expect(runs[1].input.event).toMatchObject({ properties: { orderId: 'cam-6b' } });

    await waitingAt(ctx.stack, 'cross-sell', profileOf(6), 'wait-14-days');
    await ctx.put('addon.purchased', addonPurchased(6, 'cam-6b'));
    await finished(ctx.stack, 'cross-sell', profileOf(6));
  });
});
