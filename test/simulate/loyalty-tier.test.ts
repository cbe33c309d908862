import { simulate } from '../../lambdas/simulate';

/** One simulation per branch of statemachines/loyalty-tier.json (entry and exit by the loyalty-members segment). */
const journey = 'statemachines/loyalty-tier.json';
const ann = { email: 'ann@example.com' };
const tierChanged = (at: string, tier: string) => ({ at, type: 'loyalty.tier-changed', identities: ann, attributes: { firstName: 'Ann', loyaltyTier: tier } });
const ordered = (at: string, orderId: string, total: number) => ({ at, type: 'order.placed', identities: ann, properties: { orderId, total } });
const ofAnn = async (events: unknown[], profiles?: unknown[]) => (await simulate({ journey, events, profiles })).profile('email:ann@example.com');
const sent = (m: { at: string; node: string; subject?: string }) => [m.at, m.node, m.subject];

describe('loyalty-tier playbook, simulated', () => {
  it('sends the gold offer when a tier change makes a gold member', async () => {
    const p = await ofAnn([tierChanged('+1h', 'gold')]);
    expect(p.path).toEqual(['by-tier', 'gold-offer', 'done']);
    expect(p.messages.map(sent)).toEqual([['2026-01-01T01:00:00.000Z', 'gold-offer', 'Welcome to Gold, Ann']]);
    expect(p.messages[0].body).toMatch(/^Free express shipping on every order and early access to sales, starting today\.\n\nUnsubscribe: http/);
    expect(p.run().ended).toEqual({ status: 'SUCCEEDED', at: '2026-01-01T01:00:00.000Z' });
  });

  it('starts on an attribute change through the API as on an event: a gold tier set on a known profile', async () => {
    const p = await ofAnn([{ at: '+0s', type: 'page.viewed', identities: ann }, { at: '+1h', setAttributes: { loyaltyTier: 'gold' }, identities: ann }]);
    expect(p.path).toEqual(['by-tier', 'gold-offer', 'done']);
    expect(p.messages.map((m) => [m.at, m.node])).toEqual([['2026-01-01T01:00:00.000Z', 'gold-offer']]);
  });

  it('makes a silver member of spend over 300: the silver offer, then an upgrade nudge a week later', async () => {
    const p = await ofAnn([ordered('+0s', 'o-1', 180), ordered('+1d', 'o-2', 150)]);
    expect(p.path).toEqual(['by-tier', 'silver-offer', 'wait-a-week', 'reached-gold', 'upgrade-nudge', 'done']);
    expect(p.messages.map(sent)).toEqual([
      ['2026-01-02T00:00:00.000Z', 'silver-offer', "You're Silver now, friend"],
      ['2026-01-09T00:00:00.000Z', 'upgrade-nudge', 'Gold is closer than you think'],
    ]);
  });

  it('sends no nudge to a silver member who reached gold within the week, and does not enter them again', async () => {
    const p = await ofAnn([ordered('+0s', 'o-1', 400), ordered('+3d', 'o-2', 700)]);
    expect(p.runs).toHaveLength(1);
    expect(p.path).toEqual(['by-tier', 'silver-offer', 'wait-a-week', 'reached-gold', 'done']);
    expect(p.messages.map((m) => [m.at, m.node])).toEqual([['2026-01-01T00:00:00.000Z', 'silver-offer']]);
    expect(p.run().ended).toEqual({ status: 'SUCCEEDED', at: '2026-01-08T00:00:00.000Z' });
  });

  it('stops the run when the member leaves the programme during the week: no nudge', async () => {
    const p = await ofAnn([tierChanged('+0s', 'silver'), tierChanged('+2d', 'none')]);
    expect(p.path).toEqual(['by-tier', 'silver-offer', 'wait-a-week']);
    expect(p.run().ended).toMatchObject({ status: 'ABORTED', at: '2026-01-03T00:00:00.000Z' });
    expect(p.messages.map((m) => m.node)).toEqual(['silver-offer']);
  });

  it('lets a member in again only 30 days after entering', async () => {
    const p = await ofAnn([tierChanged('+0s', 'gold'), tierChanged('+1d', 'none'), tierChanged('+2d', 'gold'), tierChanged('+29d', 'none'), tierChanged('+30d', 'silver')]);
    expect(p.runs.map((r) => [r.startedAt, r.status])).toEqual([
      ['2026-01-01T00:00:00.000Z', 'SUCCEEDED'],
      ['2026-01-31T00:00:00.000Z', 'SUCCEEDED'],
    ]);
    expect(p.messages.map((m) => [m.at, m.node])).toEqual([
      ['2026-01-01T00:00:00.000Z', 'gold-offer'],
      ['2026-01-31T00:00:00.000Z', 'silver-offer'],
      ['2026-02-07T00:00:00.000Z', 'upgrade-nudge'],
    ]);
  });

  it('sends nothing to a member who opted out of the loyalty list, whatever their email consent', async () => {
    const p = await ofAnn([tierChanged('+0s', 'gold')], [{ identities: ann, consent: { 'list:loyalty': 'opted-out', email: 'opted-in' } }]);
    expect(p.path).toEqual(['by-tier', 'gold-offer', 'done']);
    expect(p.suppressions).toEqual([{ at: '2026-01-01T00:00:00.000Z', node: 'gold-offer', channel: 'email', reason: 'consent:list:loyalty' }]);
  });
});
