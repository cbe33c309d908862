import { simulate } from '../../lambdas/simulate';

/** One simulation per branch of statemachines/cross-sell.json (start 2026-01-01T00:00:00Z). */
const journey = 'statemachines/cross-sell.json';
const ann = { email: 'ann@example.com' };
const ordered = (at: string, orderId: string, productType?: string, productName?: string) => ({
  at,
  type: 'order.placed',
  identities: ann,
  properties: { orderId, total: 300, ...(productType ? { productType } : {}), ...(productName ? { productName } : {}) },
});
const addon = (at: string, orderId: string) => ({ at, type: 'addon.purchased', identities: ann, properties: { orderId } });
const ofAnn = async (events: unknown[]) => (await simulate({ journey, events })).profile('email:ann@example.com');
const sent = (m: { at: string; node: string; subject?: string; body: string }) => [m.at, m.node, m.subject, m.body];

describe('cross-sell playbook, simulated', () => {
  it('recommends roadside assistance two weeks after a car insurance', async () => {
    const p = await ofAnn([ordered('+0s', 'pol-1', 'car-insurance')]);
    expect(p.path).toEqual(['wait-14-days', 'by-product', 'roadside-email', 'done']);
    expect(p.messages.map(sent)).toEqual([
      ['2026-01-15T00:00:00.000Z', 'roadside-email', 'Add roadside assistance to your car insurance', expect.stringMatching(/^Breakdown cover for your policy pol-1, from 4 a month\.\n\nUnsubscribe: http/)],
    ]);
    expect(p.run().ended).toEqual({ status: 'SUCCEEDED', at: '2026-01-15T00:00:00.000Z' });
  });

  it('recommends contents cover two weeks after a home insurance', async () => {
    const p = await ofAnn([ordered('+0s', 'pol-2', 'home-insurance')]);
    expect(p.path).toEqual(['wait-14-days', 'by-product', 'contents-email', 'done']);
    expect(p.messages.map(sent)).toEqual([
      ['2026-01-15T00:00:00.000Z', 'contents-email', "Protect what's inside your home", 'Contents cover to go with your home policy pol-2.'],
    ]);
  });

  it('recommends accessories for any other listed type, a camera', async () => {
    const p = await ofAnn([ordered('+0s', 'o-3', 'camera', 'the X100')]);
    expect(p.path).toEqual(['wait-14-days', 'by-product', 'accessory-email', 'done']);
    expect(p.messages.map(sent)).toEqual([
      ['2026-01-15T00:00:00.000Z', 'accessory-email', 'Made for your the X100', 'Customers who bought the X100 also got a spare battery and a case.'],
    ]);
  });

  it('starts nothing for a product type outside the list, or an order without one', async () => {
    const p = await ofAnn([ordered('+0s', 'o-4', 'socks'), ordered('+1h', 'o-5')]);
    expect(p.runs).toEqual([]);
  });

  it('sends nothing when the add-on for this order is bought, and keeps waiting when one for another order is', async () => {
    const p = await ofAnn([ordered('+0s', 'pol-1', 'car-insurance'), addon('+1d', 'pol-9'), addon('+13d23h', 'pol-1')]);
    expect([p.path, p.messages]).toEqual([['wait-14-days', 'already-bought'], []]);
    expect(p.run().ended).toEqual({ status: 'SUCCEEDED', at: '2026-01-14T23:00:00.000Z' });
  });

  it('lets a customer in again only once the previous run has ended and 30 days have passed since it entered', async () => {
    const p = await ofAnn([
      ordered('+0s', 'pol-1', 'car-insurance'),
      ordered('+1d', 'pol-2', 'home-insurance'), // the first run is active
      ordered('+20d', 'pol-3', 'home-insurance'), // it ended, but within 30 days of entering
      ordered('+30d', 'pol-4', 'camera'),
    ]);
    expect(p.runs.map((r) => [r.startedAt, r.status])).toEqual([
      ['2026-01-01T00:00:00.000Z', 'SUCCEEDED'],
      ['2026-01-31T00:00:00.000Z', 'SUCCEEDED'],
    ]);
    expect(p.messages.map((m) => [m.at, m.node])).toEqual([
      ['2026-01-15T00:00:00.000Z', 'roadside-email'],
      ['2026-02-14T00:00:00.000Z', 'accessory-email'],
    ]);
  });

  it('keeps a customer out until exactly 30 days after the entry, not a millisecond less', async () => {
    const events = [
      ordered('+0s', 'pol-1', 'car-insurance'),
      addon('+1d', 'pol-1'),
      ordered('2026-01-30T23:59:59.999Z', 'cam-1', 'camera'),
      ordered('2026-01-31T00:00:00.000Z', 'cam-2', 'camera', 'the X200'),
    ];
    const p = (await simulate({ journey, start: '2026-01-01T00:00:00Z', events })).profile('email:ann@example.com');
    expect(p.runs.map((r) => r.startedAt)).toEqual(['2026-01-01T00:00:00.000Z', '2026-01-31T00:00:00.000Z']);
    expect(p.messages.map((m) => [m.at, m.subject])).toEqual([['2026-02-14T00:00:00.000Z', 'Made for your the X200']]);
  });

  it('sends no recommendation to a customer who opted out of email', async () => {
    const sim = await simulate({ journey, profiles: [{ identities: ann, consent: { email: 'opted-out' } }], events: [ordered('+0s', 'pol-1', 'car-insurance')] });
    const p = sim.profile('email:ann@example.com');
    expect([p.path, p.messages]).toEqual([['wait-14-days', 'by-product', 'roadside-email', 'done'], []]);
    expect(p.suppressions).toEqual([{ at: '2026-01-15T00:00:00.000Z', node: 'roadside-email', channel: 'email', reason: 'consent:email' }]);
  });
});
