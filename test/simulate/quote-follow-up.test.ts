import { simulate as simulateWith, type SimulateOptions } from '../../lambdas/simulate';

/**
 * This playbook's own paths and timing, WITHOUT the shipped governance rules (`rules: []`): starting at midnight UTC,
 * quiet hours would hold its SMS and push until 08:00, and repeated runs would meet the weekly email cap. The playbooks
 * under the shipped rules: test/e2e/governed-playbooks.test.ts.
 */
const simulate = (options: SimulateOptions) => simulateWith({ rules: [], ...options });

/**
 * One simulation per branch of statemachines/quote-follow-up.json (start 2026-01-01T00:00:00Z). Its split and holdout
 * are a stable hash of the profile: ann@ is in variant text-first and out of the journey holdout, bob@ in email-only,
 * cai@ in the split's holdout, dee@ in the journey holdout (test/unit/measure covers the assignment itself).
 */
const journey = 'statemachines/quote-follow-up.json';
const ann = { email: 'ann@example.com' };
const quoteRequested = (identities: Record<string, string> = ann, attributes: Record<string, string> = {}) => ({
  at: '+0s',
  type: 'quote.requested',
  identities,
  attributes: { firstName: 'Ann', ...attributes },
  properties: { quoteId: 'q-1', product: 'car insurance', premium: '31.50', quoteUrl: 'https://insure.example/quotes/1' },
});
const purchased = (at: string, quoteId = 'q-1') => ({ at, type: 'policy.purchased', identities: ann, properties: { quoteId, policyId: `p-${quoteId}` } });
const sent = (m: { at: string; node: string; channel: string; subject?: string }) => [m.at, m.node, m.channel, m.subject];

describe('quote-follow-up playbook, simulated', () => {
  it('sends nothing when the policy is bought on the first day', async () => {
    const p = (await simulate({ journey, events: [quoteRequested(), purchased('+23h59m')] })).profile('email:ann@example.com');
    expect([p.path, p.messages]).toEqual([['wait-day-1', 'bought'], []]);
    expect(p.run().ended).toEqual({ status: 'SUCCEEDED', at: '2026-01-01T23:59:00.000Z' });
  });

  it('stops after the first reminder when this quote is bought, and not when a policy for another quote is', async () => {
    const p = (await simulate({ journey, events: [quoteRequested(), purchased('+1d1h', 'q-other'), purchased('+2d')] })).profile('email:ann@example.com');
    expect(p.path).toEqual(['wait-day-1', 'first-reminder-email', 'wait-day-3', 'bought']);
    expect(p.messages.map(sent)).toEqual([['2026-01-02T00:00:00.000Z', 'first-reminder-email', 'email', 'Your car insurance quote: 31.50 a month']]);
    expect(p.messages[0].body).toMatch(/^Hi Ann, your quote q-1 is ready: https:\/\/insure\.example\/quotes\/1\n\nUnsubscribe: http/);
    expect(p.run().ended).toEqual({ status: 'SUCCEEDED', at: '2026-01-03T00:00:00.000Z' });
  });

  it('texts on day 3 when the phone is known, and stops when the policy is bought before day 7', async () => {
    const sim = await simulate({ journey, events: [quoteRequested({ ...ann, phone: '+4915100000001' }), purchased('+5d')] });
    const p = sim.profile('email:ann@example.com');
    expect(p.path).toEqual(['wait-day-1', 'first-reminder-email', 'wait-day-3', 'channel-test', 'has-phone', 'sms-reminder', 'wait-day-7', 'bought']);
    expect(p.messages.map((m) => [m.at, m.channel, m.recipient, m.body]).slice(1)).toEqual([
      ['2026-01-04T00:00:00.000Z', 'sms', '+4915100000001', 'Your car insurance quote is still available: https://insure.example/quotes/1'],
    ]);
    expect(p.run().ended).toEqual({ status: 'SUCCEEDED', at: '2026-01-06T00:00:00.000Z' });
  });

  it('counts a phone number kept as an attribute, and sends the last email on day 7 when nothing is bought', async () => {
    const p = (await simulate({ journey, events: [quoteRequested(ann, { phone: '+4915100000002' })] })).profile('email:ann@example.com');
    expect(p.path).toEqual(['wait-day-1', 'first-reminder-email', 'wait-day-3', 'channel-test', 'has-phone', 'sms-reminder', 'wait-day-7', 'last-reminder-email', 'done']);
    expect(p.messages.map((m) => [m.at, m.node, m.channel, m.recipient])).toEqual([
      ['2026-01-02T00:00:00.000Z', 'first-reminder-email', 'email', 'ann@example.com'],
      ['2026-01-04T00:00:00.000Z', 'sms-reminder', 'sms', '+4915100000002'],
      ['2026-01-08T00:00:00.000Z', 'last-reminder-email', 'email', 'ann@example.com'],
    ]);
    expect(p.messages.map(sent)).toEqual([
      ['2026-01-02T00:00:00.000Z', 'first-reminder-email', 'email', 'Your car insurance quote: 31.50 a month'],
      ['2026-01-04T00:00:00.000Z', 'sms-reminder', 'sms', undefined],
      ['2026-01-08T00:00:00.000Z', 'last-reminder-email', 'email', 'Your quote expires tomorrow'],
    ]);
    expect(p.run().ended).toEqual({ status: 'SUCCEEDED', at: '2026-01-08T00:00:00.000Z' });
  });

  it('emails instead of texting on day 3 when no phone is known, then the last email on day 7', async () => {
    const p = (await simulate({ journey, events: [quoteRequested()] })).profile('email:ann@example.com');
    expect(p.path).toEqual(['wait-day-1', 'first-reminder-email', 'wait-day-3', 'channel-test', 'has-phone', 'second-reminder-email', 'wait-day-7', 'last-reminder-email', 'done']);
    expect(p.messages.map(sent)).toEqual([
      ['2026-01-02T00:00:00.000Z', 'first-reminder-email', 'email', 'Your car insurance quote: 31.50 a month'],
      ['2026-01-04T00:00:00.000Z', 'second-reminder-email', 'email', 'Still thinking about it?'],
      ['2026-01-08T00:00:00.000Z', 'last-reminder-email', 'email', 'Your quote expires tomorrow'],
    ]);
    expect(p.messages[2].body).toBe('Quote q-1 expires tomorrow: https://insure.example/quotes/1');
  });

  it('does not fall back to email when the customer opted out of sms: the day-3 text is suppressed', async () => {
    const sim = await simulate({
      journey,
      profiles: [{ identities: { ...ann, phone: '+4915100000001' }, consent: { sms: 'opted-out' } }],
      events: [quoteRequested({ ...ann, phone: '+4915100000001' })],
    });
    const p = sim.profile('email:ann@example.com');
    expect(p.path).toEqual(['wait-day-1', 'first-reminder-email', 'wait-day-3', 'channel-test', 'has-phone', 'sms-reminder', 'wait-day-7', 'last-reminder-email', 'done']);
    expect(p.suppressions).toEqual([{ at: '2026-01-04T00:00:00.000Z', node: 'sms-reminder', channel: 'sms', reason: 'consent:sms' }]);
    expect(p.messages.map((m) => m.node)).toEqual(['first-reminder-email', 'last-reminder-email']);
  });

  const requested = (email: string) => ({ ...quoteRequested({ email }, { phone: '+4915100000009' }) });

  it('sends the email-only variant no text on day 3, phone known or not', async () => {
    const p = (await simulate({ journey, events: [requested('bob@example.com')] })).profile('email:bob@example.com');
    expect(p.path).toEqual(['wait-day-1', 'first-reminder-email', 'wait-day-3', 'channel-test', 'second-reminder-email', 'wait-day-7', 'last-reminder-email', 'done']);
    expect(p.messages.map((m) => m.channel)).toEqual(['email', 'email', 'email']);
  });

  it('sends the split holdout nothing from day 3 on: its run ends at the split', async () => {
    const p = (await simulate({ journey, events: [requested('cai@example.com')] })).profile('email:cai@example.com');
    expect(p.path).toEqual(['wait-day-1', 'first-reminder-email', 'wait-day-3', 'channel-test']);
    expect(p.messages.map((m) => m.node)).toEqual(['first-reminder-email']);
    expect(p.run().ended).toEqual({ status: 'SUCCEEDED', at: '2026-01-04T00:00:00.000Z' });
  });

  it('runs a journey-holdout profile through the journey with every message suppressed as holdout', async () => {
    const p = (await simulate({ journey, events: [requested('dee@example.com')] })).profile('email:dee@example.com');
    expect(p.path).toEqual(['wait-day-1', 'first-reminder-email', 'wait-day-3', 'channel-test', 'second-reminder-email', 'wait-day-7', 'last-reminder-email', 'done']);
    expect(p.messages).toEqual([]);
    expect(p.suppressions.map((s) => [s.node, s.reason])).toEqual([
      ['first-reminder-email', 'holdout'],
      ['second-reminder-email', 'holdout'],
      ['last-reminder-email', 'holdout'],
    ]);
  });
});
