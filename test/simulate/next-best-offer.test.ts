import { simulate as simulateWith, type SimulateOptions } from '../../lambdas/simulate';

/**
 * This playbook's own paths and timing, WITHOUT the shipped governance rules (`rules: []`): starting at midnight UTC,
 * quiet hours would hold its SMS and push until 08:00, and repeated runs would meet the weekly email cap. The playbooks
 * under the shipped rules: test/e2e/governed-playbooks.test.ts.
 */
const simulate = (options: SimulateOptions) => simulateWith({ rules: [], ...options });

/** One simulation per branch of statemachines/next-best-offer.json (decide: offers/, placements push and email-hero). */
const journey = 'statemachines/next-best-offer.json';
const ann = { email: 'ann@example.com' };
const viewed = (at: string, attributes: Record<string, string> = {}, category = 'shoes') => ({
  at,
  type: 'product.viewed',
  identities: ann,
  attributes,
  properties: { productId: 'sku-1', productName: 'the X100', category, price: 120, productUrl: 'https://shop.example/p/x100' },
});
const ordered = (at: string) => ({ at, type: 'order.placed', identities: ann, properties: { orderId: 'o-1', total: 60 } });
const ofAnn = async (events: unknown[]) => (await simulate({ journey, events })).profile('email:ann@example.com');
const chosen = (p: { decisions: { at: string; node: string; offers: { offerId: string }[]; fallback: boolean }[] }) =>
  p.decisions.map((d) => [d.at, d.node, d.offers.map((o) => o.offerId), d.fallback]);

describe('next-best-offer playbook, simulated', () => {
  it('sends nothing when an order follows the view within two hours', async () => {
    const p = await ofAnn([viewed('+0s'), ordered('+1h59m')]);
    expect([p.path, p.messages, p.decisions]).toEqual([['wait-for-order', 'bought'], [], []]);
  });

  it('pushes the best offer for the push placement to a customer with the app', async () => {
    const p = await ofAnn([viewed('+0s', { pushToken: 'device-ann' })]);
    expect(p.path).toEqual(['wait-for-order', 'by-channel', 'pick-push-offer', 'offer-push', 'done']);
    expect(chosen(p)).toEqual([['2026-01-01T02:00:00.000Z', 'pick-push-offer', ['free-shipping'], false]]);
    expect(p.messages.map((m) => [m.at, m.channel, m.recipient, m.subject, m.body, m.url])).toEqual([
      ['2026-01-01T02:00:00.000Z', 'push', 'device-ann', 'Free shipping this week', 'Your next order ships free until Sunday.', 'https://shop.example/p/x100'],
    ]);
  });

  it('emails the best offer for the email hero to a customer without the app', async () => {
    const p = await ofAnn([viewed('+0s')]);
    expect(p.path).toEqual(['wait-for-order', 'by-channel', 'pick-email-offer', 'offer-email', 'done']);
    expect(chosen(p)).toEqual([['2026-01-01T02:00:00.000Z', 'pick-email-offer', ['free-shipping'], false]]);
    expect(p.messages.map((m) => [m.at, m.channel, m.subject])).toEqual([['2026-01-01T02:00:00.000Z', 'email', 'Free shipping, this week only']]);
    expect(p.messages[0].body).toMatch(/^No shipping costs on your next order until Sunday\.\n\nStill thinking about the X100\? https:\/\/shop\.example\/p\/x100\n\nUnsubscribe: http/);
    // Why: a first-time browser qualifies for free shipping only.
    const why = new Map(p.decisions[0].explanation.map((line) => [line.offerId, line]));
    expect(why.get('free-shipping')).toMatchObject({ eligible: true, chosen: true, score: 40 });
    expect(why.get('accessory-bundle')).toMatchObject({ eligible: false, reason: 'eligibility rule does not hold', chosen: false });
    expect(why.get('gold-double-points')).toMatchObject({ eligible: false, reason: 'not in segment "loyalty-gold"' });
  });

  it('ranks by history and context: a returning buyer viewing a camera gets the accessory bundle', async () => {
    const p = await ofAnn([ordered('+0s'), viewed('+1d', {}, 'camera')]);
    expect(chosen(p)).toEqual([['2026-01-02T02:00:00.000Z', 'pick-email-offer', ['accessory-bundle'], false]]);
    expect(p.messages.map((m) => m.subject)).toEqual(['Complete your kit']);
  });

  it('pushes the accessory bundle to a returning camera buyer with the app, scored up by history and category', async () => {
    const p = await ofAnn([{ ...ordered('+0s'), attributes: { pushToken: 'device-ann' } }, viewed('+1d', {}, 'camera')]);
    // 30 + 10 × 1 order + 25 for a camera.
    expect(p.decisions.map((d) => [d.node, d.offers.map((o) => [o.offerId, o.score])])).toEqual([['pick-push-offer', [['accessory-bundle', 65]]]]);
    expect(p.messages.map((m) => [m.at, m.channel, m.recipient, m.subject, m.body, m.url])).toEqual([
      ['2026-01-02T02:00:00.000Z', 'push', 'device-ann', 'Complete your kit', '25% off the accessory bundle.', 'https://shop.example/p/x100'],
    ]);
  });

  it('enters again after 3 days, and falls back to the newsletter once free shipping is capped (twice a week)', async () => {
    const p = await ofAnn([viewed('+0s'), viewed('+2d23h'), viewed('+3d'), viewed('+6d')]);
    expect(p.runs.map((r) => r.startedAt)).toEqual(['2026-01-01T00:00:00.000Z', '2026-01-04T00:00:00.000Z', '2026-01-07T00:00:00.000Z']);
    expect(chosen(p).map(([at, , offers, fallback]) => [at, offers, fallback])).toEqual([
      ['2026-01-01T02:00:00.000Z', ['free-shipping'], false],
      ['2026-01-04T02:00:00.000Z', ['free-shipping'], false],
      ['2026-01-07T02:00:00.000Z', ['newsletter'], true],
    ]);
    expect(p.messages.map((m) => m.subject)).toEqual(['Free shipping, this week only', 'Free shipping, this week only', 'New this week']);
  });

  it('decides but sends nothing to a customer with the app who opted out of push, and does not fall back to email', async () => {
    const p = await ofAnn([{ ...viewed('+0s', { pushToken: 'device-ann' }), consent: { push: 'opted-out' } }]);
    expect(p.path).toEqual(['wait-for-order', 'by-channel', 'pick-push-offer', 'offer-push', 'done']);
    expect(chosen(p)).toEqual([['2026-01-01T02:00:00.000Z', 'pick-push-offer', ['free-shipping'], false]]);
    expect([p.messages, p.suppressions]).toEqual([[], [{ at: '2026-01-01T02:00:00.000Z', node: 'offer-push', channel: 'push', reason: 'consent:push' }]]);
  });
});
