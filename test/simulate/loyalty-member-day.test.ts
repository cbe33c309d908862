import { simulate } from '../../lambdas/simulate';

/** One simulation per branch of statemachines/loyalty-member-day.json: entered by the hourly re-check, no event. */
const journey = 'statemachines/loyalty-member-day.json';
const member = (email: string, tier: string, memberSince = '2024-01-03') => ({
  at: '+0s',
  type: 'loyalty.tier-changed',
  identities: { email },
  attributes: { firstName: 'Ann', loyaltyTier: tier, memberSince },
});

describe('loyalty-member-day playbook, simulated', () => {
  it('thanks a gold member at the start of the anniversary, found by the re-check, and nobody before', async () => {
    const sim = await simulate({ journey, events: [member('ann@example.com', 'gold'), member('bob@example.com', 'gold', '2024-03-01')], until: '+3d' });
    const ann = sim.profile('email:ann@example.com');
    expect(ann.path).toEqual(['by-tier', 'thank-you', 'done']);
    // Entered once, by the first re-check of the day: the later re-checks that day enter nobody again.
    expect(ann.runs.map((r) => [r.startedAt, r.status])).toEqual([['2026-01-03T00:00:00.000Z', 'SUCCEEDED']]);
    expect(ann.messages.map((m) => [m.at, m.subject])).toEqual([['2026-01-03T00:00:00.000Z', 'Happy member day: thank you']]);
    expect(ann.messages[0].body).toMatch(/^Another year as a Gold member\. Here is 20% off anything, on us\.\n\nUnsubscribe: http/);
    expect(sim.profile('email:bob@example.com').runs).toEqual([]);
  });

  it('offers a silver member the way to gold', async () => {
    const sim = await simulate({ journey, events: [member('ann@example.com', 'silver')], until: '+3d' });
    const ann = sim.profile('email:ann@example.com');
    expect(ann.path).toEqual(['by-tier', 'upgrade-offer', 'done']);
    expect(ann.messages.map((m) => [m.at, m.subject])).toEqual([['2026-01-03T00:00:00.000Z', 'Happy member day: go Gold']]);
  });

  it('greets nobody outside the programme, even on the anniversary', async () => {
    const sim = await simulate({ journey, events: [member('ann@example.com', 'none')], until: '+3d' });
    expect(sim.profile('email:ann@example.com').runs).toEqual([]);
  });

  it('sends nothing to a member who opted out of the loyalty list', async () => {
    const sim = await simulate({
      journey,
      profiles: [{ identities: { email: 'ann@example.com' }, consent: { 'list:loyalty': 'opted-out' } }],
      events: [member('ann@example.com', 'gold')],
      until: '+3d',
    });
    const ann = sim.profile('email:ann@example.com');
    expect([ann.path, ann.messages]).toEqual([['by-tier', 'thank-you', 'done'], []]);
    expect(ann.suppressions).toEqual([{ at: '2026-01-03T00:00:00.000Z', node: 'thank-you', channel: 'email', reason: 'consent:list:loyalty' }]);
  });
});
