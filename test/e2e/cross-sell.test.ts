import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import { bodies, openVirtualStack, parkedStates } from './local-stack';

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

const email = (n: number) => `buyer${n}@example.com`;
const profileOf = (n: number) => newProfileId('email', email(n));
const orderPlaced = (n: number, orderId: string, productType: string, productName?: string) => ({
  id: `event-${orderId}`,
  identities: { email: email(n) },
  properties: { orderId, productType, ...(productName ? { productName } : {}) },
});
const addonPurchased = (n: number, orderId: string) => ({ id: `addon-${orderId}`, identities: { email: email(n) }, properties: { orderId, addon: 'extra' } });

describe('cross-sell playbook (recommendations)', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    ctx = await openVirtualStack();
  });
  afterAll(() => ctx.stack.stop());

  it('recommends roadside assistance for car insurance, contents cover for home insurance and an accessory for a camera, two weeks on', async () => {
    const from = ctx.clock.nowMs();
    await ctx.put('order.placed', orderPlaced(1, 'car-1', 'car-insurance'));
    await ctx.put('order.placed', orderPlaced(2, 'home-2', 'home-insurance'));
    await ctx.put('order.placed', orderPlaced(3, 'cam-3', 'camera', 'Lumix G9'));
    await ctx.clock.advance(14 * DAY - 1);
    expect(ctx.stack.outbox.list()).toEqual([]);
    await ctx.clock.advance(1);
    const runs = ctx.stack.executions.list({ journeyId: 'cross-sell' });

    expect(runs.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(ctx.stack.outbox.list().map((m) => m.time)).toEqual(Array(3).fill(iso(from + 14 * DAY)));
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

describe('cross-sell playbook (add-on purchases and re-entrance)', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    ctx = await openVirtualStack();
  });
  afterAll(() => ctx.stack.stop());

  it('sends nothing when the add-on for this order is bought, and keeps waiting when one for another order is', async () => {
    await ctx.put('order.placed', orderPlaced(5, 'car-5', 'car-insurance'));
    expect(await parkedStates(ctx.stack, 'cross-sell', profileOf(5))).toEqual(['wait-14-days']);
    await ctx.clock.advance('3d');
    await ctx.put('addon.purchased', addonPurchased(5, 'car-older'));
    const [waiting] = ctx.stack.executions.list({ journeyId: 'cross-sell', profileId: profileOf(5) });
    expect(ctx.stack.executions.parkedAt(waiting.executionArn)).toEqual(['wait-14-days']);

    await ctx.clock.advance(11 * DAY - 1);
    await ctx.put('addon.purchased', addonPurchased(5, 'car-5'));
    const [run] = ctx.stack.executions.list({ journeyId: 'cross-sell', profileId: profileOf(5) });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.path).toEqual(['wait-14-days', 'already-bought']);
    await ctx.clock.runUntilIdle();
    expect(ctx.stack.outbox.list({ profileId: profileOf(5) })).toEqual([]);
  });

  it('lets a customer in again only once the previous run has ended and 30 days have passed since it entered', async () => {
    const runsOf = () => ctx.stack.executions.list({ journeyId: 'cross-sell', profileId: profileOf(6) });
    const entered = ctx.clock.nowMs();
    await ctx.put('order.placed', orderPlaced(6, 'car-6', 'car-insurance'));
    expect(await parkedStates(ctx.stack, 'cross-sell', profileOf(6))).toEqual(['wait-14-days']);

    await ctx.clock.advance('1d');
    await ctx.put('order.placed', orderPlaced(6, 'home-6', 'home-insurance'));
    expect(runsOf()).toHaveLength(1);

    await ctx.put('addon.purchased', addonPurchased(6, 'car-6'));
    expect(runsOf()[0].status).toBe('SUCCEEDED');
    await ctx.clock.advance('1d');
    await ctx.put('order.placed', orderPlaced(6, 'cam-6', 'camera'));
    expect(runsOf()).toHaveLength(1);
    // The boundary: not a millisecond before 30 days from the first entry, and at 30 days exactly.
    await ctx.clock.advanceTo(entered + 30 * DAY - 1);
    await ctx.put('order.placed', orderPlaced(6, 'cam-6a', 'camera'));
    expect(runsOf()).toHaveLength(1);

    await ctx.clock.advance(1);
    await ctx.put('order.placed', orderPlaced(6, 'cam-6b', 'camera'));
    const runs = runsOf();
    expect(runs).toHaveLength(2);
    expect(runs[1].input.event).toMatchObject({ properties: { orderId: 'cam-6b' } });
    expect(runs[1].startDate).toBe(iso(entered + 30 * DAY));

    expect(await parkedStates(ctx.stack, 'cross-sell', profileOf(6))).toEqual(['wait-14-days']);
    await ctx.put('addon.purchased', addonPurchased(6, 'cam-6b'));
    expect(runsOf().map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
  });
});
