import { simulate } from '../../lambdas/simulate';

/** One simulation per branch of statemachines/cart-abandonment.json (decide: offers/ and placements/push.json). */
const journey = 'statemachines/cart-abandonment.json';
const start = '2026-12-01T10:00:00Z';
const ann = { email: 'ann@example.com' };
const cartUpdated = (at: string, cartId = 'cart-1', extra: Record<string, unknown> = {}, attributes: Record<string, string> = {}) => ({
  at,
  type: 'cart.updated',
  identities: ann,
  attributes: { firstName: 'Ann', pushToken: 'device-ann', ...attributes },
  properties: { action: 'item-added', cartId, productIds: [`${cartId}-sku`], cartUrl: `https://shop.example/${cartId}`, itemCount: 2, ...extra },
});
const ordered = (at: string, cartId = 'cart-1', identities = ann) => ({ at, type: 'order.placed', identities, properties: { cartId, total: 80 } });
const catalog = (at: string, type: string, productId: string, extra: Record<string, string> = {}) => ({
  at,
  type,
  catalog: true,
  properties: { productId, productName: 'Socks', ...extra },
});
const sent = (m: { at: string; node: string; channel: string; recipient: string; subject?: string }) => [m.at, m.node, m.channel, m.recipient, m.subject];
const ofAnn = async (events: unknown[], profiles?: unknown[]) => (await simulate({ journey, start, events, profiles })).profile('email:ann@example.com');

describe('cart-abandonment playbook, simulated', () => {
  it('sends nothing when this cart is ordered within the hour', async () => {
    const p = await ofAnn([cartUpdated('+0s'), ordered('+59m')]);
    expect([p.path, p.messages]).toEqual([['wait-for-order', 'converted'], []]);
    expect(p.run().ended).toEqual({ status: 'SUCCEEDED', at: '2026-12-01T10:59:00.000Z' });
  });

  it("reminds after an hour, not ended by an order of another cart nor by a stranger's order of this cart", async () => {
    const p = await ofAnn([cartUpdated('+0s'), ordered('+10m', 'cart-9'), ordered('+20m', 'cart-1', { email: 'eve@example.com' })]);
    expect(p.path.slice(0, 3)).toEqual(['wait-for-order', 'reminder-email', 'wait-for-offer-signal']);
    expect(p.messages.map(sent)[0]).toEqual(['2026-12-01T11:00:00.000Z', 'reminder-email', 'email', 'ann@example.com', 'Ann, your cart is waiting']);
    expect(p.messages[0].body).toMatch(/^You left 2 item\(s\) in your cart: https:\/\/shop\.example\/cart-1\n\nUnsubscribe: http/);
    expect(p.messages[0].html).toContain('<a href="https://shop.example/cart-1">Return to your cart</a>');
  });

  it('pushes the best offer when a cart item drops in price (not another product): the cart discount', async () => {
    const p = await ofAnn([
      cartUpdated('+0s'),
      catalog('+2h', 'price.dropped', 'other-sku', { price: '5.00' }),
      catalog('+1d', 'price.dropped', 'cart-1-sku', { price: '9.99' }),
    ]);
    expect(p.path).toEqual(['wait-for-order', 'reminder-email', 'wait-for-offer-signal', 'pick-offer', 'offer-push', 'done']);
    expect(p.decisions).toMatchObject([{ at: '2026-12-02T10:00:00.000Z', node: 'pick-offer', placement: 'push', offers: [{ offerId: 'cart-discount' }], fallback: false }]);
    expect(p.messages.map(sent)[1]).toEqual(['2026-12-02T10:00:00.000Z', 'offer-push', 'push', 'device-ann', 'Good news about your cart']);
    expect(p.messages[1]).toMatchObject({ body: 'Socks is now 9.99. Code CART10 takes 10% off, for 48 hours.', url: 'https://shop.example/cart-1' });
    expect(p.run().ended).toEqual({ status: 'SUCCEEDED', at: '2026-12-02T10:00:00.000Z' });
  });

  it('pushes "back in stock" on a restock, ignoring signals about products not in the cart', async () => {
    const p = await ofAnn([cartUpdated('+0s'), catalog('+2h', 'product.restocked', 'other-sku'), catalog('+2d', 'product.restocked', 'cart-1-sku')]);
    expect(p.path).toEqual(['wait-for-order', 'reminder-email', 'wait-for-offer-signal', 'pick-offer', 'offer-push', 'done']);
    expect(p.messages.map((m) => [m.at, m.body])[1]).toEqual(['2026-12-03T10:00:00.000Z', 'Socks is back in stock. Code CART10 takes 10% off, for 48 hours.']);
  });

  it('ranks by the context: a gold member with a small cart gets double points, with a big cart the discount', async () => {
    const signal = catalog('+1d', 'price.dropped', 'cart-1-sku', { price: '9.99' });
    const small = await ofAnn([cartUpdated('+0s', 'cart-1', { total: 40 }, { loyaltyTier: 'gold' }), signal]);
    expect(small.decisions.map((d) => d.offers.map((o) => o.offerId))).toEqual([['gold-double-points']]);
    expect(small.messages[1].body).toBe('Socks is now 9.99. Gold members earn double points on the next order.');
    const big = await ofAnn([cartUpdated('+0s', 'cart-1', { total: 150 }, { loyaltyTier: 'gold' }), signal]);
    expect(big.decisions.map((d) => d.offers.map((o) => o.offerId))).toEqual([['cart-discount']]);
  });

  it('falls to the next offer once the cart discount is capped for the profile (once in 30 days)', async () => {
    const p = await ofAnn([
      cartUpdated('+0s'),
      catalog('+1d', 'price.dropped', 'cart-1-sku', { price: '9.99' }),
      cartUpdated('+2d', 'cart-2'),
      catalog('+3d', 'price.dropped', 'cart-2-sku', { price: '5.00' }),
    ]);
    expect(p.runs.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(p.decisions.map((d) => [d.at, d.offers.map((o) => o.offerId)])).toEqual([
      ['2026-12-02T10:00:00.000Z', ['cart-discount']],
      ['2026-12-04T10:00:00.000Z', ['free-shipping']],
    ]);
    expect(p.decisions[1].explanation.find((e) => e.offerId === 'cart-discount')).toMatchObject({ chosen: false });
  });

  it('sends the last-chance email three days after the reminder when no signal comes', async () => {
    const p = await ofAnn([cartUpdated('+0s')]);
    expect(p.path).toEqual(['wait-for-order', 'reminder-email', 'wait-for-offer-signal', 'last-chance-email', 'done']);
    expect(p.messages.map(sent)).toEqual([
      ['2026-12-01T11:00:00.000Z', 'reminder-email', 'email', 'ann@example.com', 'Ann, your cart is waiting'],
      ['2026-12-04T11:00:00.000Z', 'last-chance-email', 'email', 'ann@example.com', 'Last chance: your cart expires soon'],
    ]);
    expect(p.run().ended).toEqual({ status: 'SUCCEEDED', at: '2026-12-04T11:00:00.000Z' });
    // Each send node is compiled to route, deliver, record and count states, entered in that order.
    const sends = (node: string) => ['', '.route', '.deliver', '.record', '.tally', '.count'].map((s) => `${node}${s}`);
    expect(p.run().path.map((s) => s.state)).toEqual(['wait-for-order', ...sends('reminder-email'), 'wait-for-offer-signal', ...sends('last-chance-email'), 'done']);
  });

  it('routes but does not deliver an email to a profile without an address, and records why', async () => {
    const device = { ...cartUpdated('+0s'), identities: { deviceId: 'device-only' } };
    const p = (await simulate({ journey, start, events: [device] })).profile('deviceId:device-only');
    expect([p.run().status, p.messages]).toEqual(['SUCCEEDED', []]);
    const states = p.run().path.map((s) => s.state);
    expect(states).toContain('reminder-email.route');
    expect(states).not.toContain('reminder-email.deliver');
    expect(p.suppressions.map((s) => [s.at, s.node, s.reason])).toEqual([
      ['2026-12-01T11:00:00.000Z', 'reminder-email', 'no-address'],
      ['2026-12-04T11:00:00.000Z', 'last-chance-email', 'no-address'],
    ]);
  });

  it('sends nothing when the order is routed before the cart event it follows (events out of order)', async () => {
    // EventBridge does not guarantee order: the order (dated after the cart event) arrives first.
    const p = await ofAnn([{ ...ordered('+1m'), time: '2026-12-01T10:00:55Z' }, { ...cartUpdated('+1m'), time: '2026-12-01T10:00:50Z' }]);
    expect([p.path, p.messages]).toEqual([['wait-for-order', 'converted'], []]);
    expect(p.run().ended).toEqual({ status: 'SUCCEEDED', at: '2026-12-01T10:01:00.000Z' });
  });

  it('does not let an order dated before the cart event end the run', async () => {
    const p = await ofAnn([{ ...ordered('+1m'), time: '2026-12-01T10:00:40Z' }, { ...cartUpdated('+1m'), time: '2026-12-01T10:00:50Z' }]);
    expect(p.path.slice(0, 2)).toEqual(['wait-for-order', 'reminder-email']);
    expect(p.messages.map((m) => [m.at, m.node])[0]).toEqual(['2026-12-01T11:01:00.000Z', 'reminder-email']);
  });

  it('starts no run for another cart action, and no second run while the first is active', async () => {
    const p = await ofAnn([cartUpdated('+0s', 'cart-1', { action: 'item-removed' }), cartUpdated('+1m'), cartUpdated('+2m', 'cart-2'), ordered('+3m')]);
    expect(p.runs.map((r) => r.startedAt)).toEqual(['2026-12-01T10:01:00.000Z']);
    expect(p.path).toEqual(['wait-for-order', 'converted']);
  });

  it('suppresses both emails of a profile that opted out of email', async () => {
    const p = await ofAnn([cartUpdated('+0s')], [{ identities: ann, consent: { email: 'opted-out' } }]);
    expect(p.messages).toEqual([]);
    expect(p.suppressions).toEqual([
      { at: '2026-12-01T11:00:00.000Z', node: 'reminder-email', channel: 'email', reason: 'consent:email' },
      { at: '2026-12-04T11:00:00.000Z', node: 'last-chance-email', channel: 'email', reason: 'consent:email' },
    ]);
  });
});
