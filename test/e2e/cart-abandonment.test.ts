import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import { bodies, openVirtualStack, parkedStates } from './local-stack';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

const shopper = (n: number) => ({ email: `shopper${n}@example.com` });
const profileOf = (n: number) => newProfileId('email', `shopper${n}@example.com`);
const cartAdded = (n: number, extra: Record<string, unknown> = {}) => ({
  id: `cart-${n}`,
  identities: shopper(n),
  attributes: { firstName: `Shopper${n}`, pushToken: `device-${n}` },
  properties: { action: 'item-added', cartId: `cart-${n}`, productIds: [`sku-${n}-a`, `sku-${n}-b`], cartUrl: `https://shop.example/cart/${n}`, itemCount: 2, ...extra },
});

describe('cart-abandonment playbook (event-driven branches)', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    ctx = await openVirtualStack();
  });
  afterAll(() => ctx.stack.stop());

  const runsOf = (profileId: string) => ctx.stack.executions.list({ journeyId: 'cart-abandonment', profileId });

  it('sends nothing when the order is placed within the hour', async () => {
    await ctx.put('cart.updated', cartAdded(1));
    expect(await parkedStates(ctx.stack, 'cart-abandonment', profileOf(1))).toEqual(['wait-for-order']);
    await ctx.clock.advance(59 * MINUTE);
    await ctx.put('order.placed', { id: 'order-1', identities: shopper(1), properties: { cartId: 'cart-1', total: 80 } });
    const [run] = runsOf(profileOf(1));
    expect(run.status).toBe('SUCCEEDED');
    expect(run.path).toEqual(['wait-for-order', 'converted']);
    // The hour's timeout ended with the run: nothing goes out when it would have passed.
    await ctx.clock.advance('1h');
    expect(ctx.stack.outbox.list({ profileId: profileOf(1) })).toEqual([]);
  });

  it('sends the reminder after an hour, then the offer push when a cart item drops in price', async () => {
    const from = ctx.clock.nowMs();
    await ctx.put('cart.updated', cartAdded(2));
    await ctx.clock.advance(HOUR - 1);
    expect(ctx.stack.outbox.list({ profileId: profileOf(2) })).toEqual([]);
    await ctx.clock.advance(1);
    expect(await parkedStates(ctx.stack, 'cart-abandonment', profileOf(2))).toEqual(['wait-for-offer-signal']);
    // A price drop on another product resumes nothing.
    await ctx.clock.advance('1d');
    await ctx.put('price.dropped', { id: 'price-x', catalog: true, properties: { productId: 'sku-other', productName: 'Hat', price: '5.00' } }, 'test.catalog');
    expect(ctx.stack.executions.parkedAt(runsOf(profileOf(2))[0].executionArn)).toEqual(['wait-for-offer-signal']);
    await ctx.put('price.dropped', { id: 'price-2', catalog: true, properties: { productId: 'sku-2-b', productName: 'Socks', price: '9.99' } }, 'test.catalog');
    expect(runsOf(profileOf(2))[0].status).toBe('SUCCEEDED');
    // The catalog event belongs to no customer: no profile was made for it.
    expect((await fetch(`${ctx.stack.url}/profiles/${newProfileId('crmId', 'catalog')}`)).status).toBe(404);
    const messages = ctx.stack.outbox.list({ profileId: profileOf(2) });
    expect(bodies(messages)).toEqual(['email:reminder-email', 'push:offer-push']);
    expect(messages.map((m) => m.time)).toEqual([iso(from + HOUR), iso(from + HOUR + DAY)]);
    expect(messages[0]).toMatchObject({ recipient: 'shopper2@example.com', subject: 'Shopper2, your cart is waiting', journeyId: 'cart-abandonment' });
    expect(messages[0].html).toContain('https://shop.example/cart/2');
    // The offer is decided for this cart: the cart discount (cart updated, no order since) outranks free shipping.
    expect(messages[1]).toMatchObject({ recipient: 'device-2', body: 'Socks is now 9.99. Code CART10 takes 10% off, for 48 hours.', url: 'https://shop.example/cart/2' });
    const log = (await fetch(`${ctx.stack.url}/profiles/${profileOf(2)}/decisions`).then((r) => r.json())) as { decisions: unknown[] };
    expect(log.decisions).toHaveLength(1);
    expect(log.decisions[0]).toMatchObject({ origin: 'journey:cart-abandonment:pick-offer', placements: { push: { offers: [{ offerId: 'cart-discount' }], fallback: false } } });
  });

  it("does not end a shopper's run on a stranger's order carrying the shopper's cart id", async () => {
    await ctx.put('cart.updated', cartAdded(7));
    expect(await parkedStates(ctx.stack, 'cart-abandonment', profileOf(7))).toEqual(['wait-for-order']);
    await ctx.put('order.placed', { id: 'order-stranger', identities: shopper(8), properties: { cartId: 'cart-7', total: 1 } });
    const [run] = runsOf(profileOf(7));
    expect(ctx.stack.executions.parkedAt(run.executionArn)).toEqual(['wait-for-order']);
    await ctx.put('order.placed', { id: 'order-7', identities: shopper(7), properties: { cartId: 'cart-7', total: 80 } });
    const [done] = runsOf(profileOf(7));
    expect(done.status).toBe('SUCCEEDED');
    expect(done.path).toEqual(['wait-for-order', 'converted']);
  });

  it('does not start a second run while the first is active, and starts none for another cart action', async () => {
    await ctx.put('cart.updated', cartAdded(3));
    expect(await parkedStates(ctx.stack, 'cart-abandonment', profileOf(3))).toEqual(['wait-for-order']);
    // Past the grace for a run still starting: the first run is known to be running.
    await ctx.clock.advance('30m');
    await ctx.put('cart.updated', { ...cartAdded(3), id: 'cart-3-again' });
    await ctx.put('cart.updated', { ...cartAdded(4), properties: { ...cartAdded(4).properties, action: 'item-removed' } });
    expect(runsOf(profileOf(3))).toHaveLength(1);
    expect(runsOf(profileOf(4))).toHaveLength(0);
    await ctx.put('order.placed', { id: 'order-3', identities: shopper(3), properties: { cartId: 'cart-3' } });
    expect(runsOf(profileOf(3)).map((r) => r.status)).toEqual(['SUCCEEDED']);
  });

  it('processes the same event id once, however often it is delivered', async () => {
    const event = cartAdded(5);
    await ctx.put('cart.updated', event);
    await ctx.clock.advance('10m');
    await ctx.put('cart.updated', event);
    expect(await parkedStates(ctx.stack, 'cart-abandonment', profileOf(5))).toEqual(['wait-for-order']);
    expect(runsOf(profileOf(5))).toHaveLength(1);
    await ctx.put('order.placed', { id: 'order-5', identities: shopper(5), properties: { cartId: 'cart-5' } });
    expect(runsOf(profileOf(5)).map((r) => r.status)).toEqual(['SUCCEEDED']);
  });
});

describe('cart-abandonment playbook (timeouts)', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    ctx = await openVirtualStack();
  });
  afterAll(() => ctx.stack.stop());

  it('sends the reminder, then the last-chance email when nothing happens for three days', async () => {
    const from = ctx.clock.nowMs();
    await ctx.put('cart.updated', cartAdded(6));
    await ctx.clock.advance(HOUR);
    expect(bodies(ctx.stack.outbox.list({ profileId: profileOf(6) }))).toEqual(['email:reminder-email']);
    await ctx.clock.advance(3 * DAY - 1);
    expect(bodies(ctx.stack.outbox.list({ profileId: profileOf(6) }))).toEqual(['email:reminder-email']);
    await ctx.clock.advance(1);
    const [run] = ctx.stack.executions.list({ journeyId: 'cart-abandonment', profileId: profileOf(6) });
    expect(run.status).toBe('SUCCEEDED');
    const messages = ctx.stack.outbox.list({ profileId: profileOf(6) });
    expect(bodies(messages)).toEqual(['email:reminder-email', 'email:last-chance-email']);
    expect(messages.map((m) => m.time)).toEqual([iso(from + HOUR), iso(from + HOUR + 3 * DAY)]);
    expect(run.path).toEqual([
      'wait-for-order',
      'reminder-email',
      'reminder-email.route',
      'reminder-email.deliver',
      'reminder-email.record',
      'reminder-email.count',
      'wait-for-offer-signal',
      'last-chance-email',
      'last-chance-email.route',
      'last-chance-email.deliver',
      'last-chance-email.record',
      'last-chance-email.count',
      'done',
    ]);
  });

  it('suppresses an email to a profile without an address and records why in the ledger', async () => {
    const from = ctx.clock.nowMs();
    await ctx.put('cart.updated', { ...cartAdded(7), identities: { deviceId: 'device-only-7' } });
    await ctx.clock.runUntilIdle();
    const profileId = newProfileId('deviceId', 'device-only-7');
    const [run] = ctx.stack.executions.list({ journeyId: 'cart-abandonment', profileId });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.path).toContain('reminder-email.route');
    expect(run.path).not.toContain('reminder-email.deliver');
    expect(run.trail.find((s) => s.state === 'reminder-email.route')?.at).toBe(iso(from + HOUR));
    expect((run.output as { steps: Record<string, { reason: string }> }).steps.reminder_email.reason).toBe('no-address');
    expect(ctx.stack.outbox.list({ profileId: run.profileId })).toEqual([]);
  });
});

describe('cart-abandonment playbook (an order right behind the cart event)', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    ctx = await openVirtualStack();
  });
  afterAll(() => ctx.stack.stop());

  /** An event time some seconds before the stack's (virtual) now. */
  const ago = (seconds: number) => iso(ctx.clock.nowMs() - seconds * 1000);

  it('sends nothing when the order is routed before the wait for it is registered (events out of order)', async () => {
    // EventBridge does not guarantee order: the order (placed after the item was added) is routed first.
    await ctx.put('order.placed', { id: 'order-8', time: ago(5), identities: shopper(8), properties: { cartId: 'cart-8', total: 20 } });
    await ctx.put('cart.updated', { ...cartAdded(8), time: ago(10) });
    const [run] = ctx.stack.executions.list({ journeyId: 'cart-abandonment', profileId: profileOf(8) });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.path).toEqual(['wait-for-order', 'converted']);
    expect((run.output as { steps: Record<string, { event: { id: string } }> }).steps.wait_for_order.event.id).toBe('order-8');
    expect(ctx.stack.outbox.list({ profileId: profileOf(8) })).toEqual([]);
  });

  it('does not let an order placed before the cart event end the run', async () => {
    const from = ctx.clock.nowMs();
    await ctx.put('order.placed', { id: 'order-9', time: ago(20), identities: shopper(9), properties: { cartId: 'cart-9' } });
    await ctx.put('cart.updated', { ...cartAdded(9), time: ago(10) });
    // The run waits its hour and sends the reminder: the earlier order is not the one it waits for.
    await ctx.clock.advance(HOUR - 1);
    expect(ctx.stack.outbox.list({ profileId: profileOf(9) })).toEqual([]);
    await ctx.clock.advance(1);
    const messages = ctx.stack.outbox.list({ profileId: profileOf(9) });
    expect(messages.map((m) => [m.nodeId, m.time])).toEqual([['reminder-email', iso(from + HOUR)]]);
    expect(ctx.stack.executions.list({ journeyId: 'cart-abandonment', profileId: profileOf(9) })[0].path.slice(0, 2)).toEqual(['wait-for-order', 'reminder-email']);
  });
});
