import { simulate as simulateWith, type SimulateOptions } from '../../lambdas/simulate';

/**
 * This playbook's own paths and timing, WITHOUT the shipped governance rules (`rules: []`): starting at midnight UTC,
 * quiet hours would hold its SMS and push until 08:00, and repeated runs would meet the weekly email cap. The playbooks
 * under the shipped rules: test/e2e/governed-playbooks.test.ts.
 */
const simulate = (options: SimulateOptions) => simulateWith({ rules: [], ...options });

/** One simulation per branch of statemachines/welcome.json. */
const journey = 'statemachines/welcome.json';
const start = '2026-01-01T00:00:00Z';
const ann = { email: 'ann@example.com' };
const signedUp = (at: string, extra: object = {}) => ({ at, type: 'member.signed-up', identities: ann, attributes: { firstName: 'Ann' }, ...extra });
// The app registers its device on login: the push token arrives with the login event.
const loggedIn = (at: string) => ({ at, type: 'app.logged-in', identities: ann, attributes: { pushToken: 'device-ann' } });
const ordered = (at: string) => ({ at, type: 'order.placed', identities: ann, properties: { orderId: 'o-1', total: 42 } });
const sent = (m: { at: string; node: string; channel: string; recipient: string; subject?: string }) => [m.at, m.node, m.channel, m.recipient, m.subject];

describe('welcome playbook, simulated', () => {
  it('welcomes at once, sends the onboarding push on a login in the last second of day three, ends on the first order', async () => {
    // Another member's login resumes nothing: the wait is keyed by profile.
    const strangerLogin = { ...loggedIn('+1h'), identities: { email: 'eve@example.com' } };
    const sim = await simulate({ journey, start, events: [signedUp('+0s'), strangerLogin, loggedIn('2026-01-03T23:59:59Z'), ordered('+5d')] });
    const p = sim.profile('email:ann@example.com');
    expect(p.path).toEqual(['welcome-email', 'wait-for-login', 'onboarding-push', 'wait-for-first-order', 'converted']);
    expect(p.messages.map(sent)).toEqual([
      ['2026-01-01T00:00:00.000Z', 'welcome-email', 'email', 'ann@example.com', 'Welcome to the club, Ann'],
      ['2026-01-03T23:59:59.000Z', 'onboarding-push', 'push', 'device-ann', "You're in!"],
    ]);
    expect(p.messages[0].html).toContain('<h1>Welcome, Ann!</h1>');
    expect(p.messages[1]).toMatchObject({ body: 'Three tips to get the most out of your membership.', url: 'app://onboarding' });
    expect(p.run().ended).toEqual({ status: 'SUCCEEDED', at: '2026-01-06T00:00:00.000Z' });
  });

  it('sends the member offer four days after the login when no order comes', async () => {
    const sim = await simulate({ journey, start, events: [signedUp('+0s'), loggedIn('+1d')] });
    const p = sim.profile('email:ann@example.com');
    expect(p.path).toEqual(['welcome-email', 'wait-for-login', 'onboarding-push', 'wait-for-first-order', 'member-offer-email', 'done']);
    expect(p.messages.map(sent).slice(1)).toEqual([
      ['2026-01-02T00:00:00.000Z', 'onboarding-push', 'push', 'device-ann', "You're in!"],
      ['2026-01-06T00:00:00.000Z', 'member-offer-email', 'email', 'ann@example.com', 'A member-only offer for you'],
    ]);
    expect(p.messages[2].body).toMatch(/^As a member you get 15% off your first order with code WELCOME15\.\n\nUnsubscribe: http/);
    expect(p.run().ended).toEqual({ status: 'SUCCEEDED', at: '2026-01-06T00:00:00.000Z' });
  });

  it('reminds to log in after three days without a login (a login at the very timeout is late), ends on an order', async () => {
    const sim = await simulate({ journey, start, events: [signedUp('+0s'), loggedIn('+3d'), ordered('+4d')] });
    const p = sim.profile('email:ann@example.com');
    expect(p.path).toEqual(['welcome-email', 'wait-for-login', 'login-reminder-email', 'wait-for-first-order', 'converted']);
    expect(p.messages.map(sent).slice(1)).toEqual([
      ['2026-01-04T00:00:00.000Z', 'login-reminder-email', 'email', 'ann@example.com', 'Your membership is waiting'],
    ]);
    expect(p.run().ended).toEqual({ status: 'SUCCEEDED', at: '2026-01-05T00:00:00.000Z' });
  });

  it('reminds after three days and sends the member offer on day seven to a member who neither logs in nor orders', async () => {
    const sim = await simulate({ journey, start, events: [signedUp('+0s')] });
    const p = sim.profile('email:ann@example.com');
    expect(p.path).toEqual(['welcome-email', 'wait-for-login', 'login-reminder-email', 'wait-for-first-order', 'member-offer-email', 'done']);
    expect(p.messages.map((m) => [m.at, m.node])).toEqual([
      ['2026-01-01T00:00:00.000Z', 'welcome-email'],
      ['2026-01-04T00:00:00.000Z', 'login-reminder-email'],
      ['2026-01-08T00:00:00.000Z', 'member-offer-email'],
    ]);
    expect(p.run().ended).toEqual({ status: 'SUCCEEDED', at: '2026-01-08T00:00:00.000Z' });
  });

  it('never enters a member twice, neither while the first run is active nor after it ended', async () => {
    const sim = await simulate({ journey, start, events: [signedUp('+0s'), signedUp('+1d'), signedUp('+30d')] });
    const p = sim.profile('email:ann@example.com');
    expect(p.runs).toHaveLength(1);
    expect(p.messages.filter((m) => m.node === 'welcome-email')).toHaveLength(1);
  });

  it('sends no email to a member who opted out of email, and no push to one without a device', async () => {
    const events = [signedUp('+0s', { consent: { email: 'opted-out' } }), { at: '+1h', type: 'app.logged-in', identities: ann }];
    const sim = await simulate({ journey, start, events });
    const p = sim.profile('email:ann@example.com');
    expect(p.path).toEqual(['welcome-email', 'wait-for-login', 'onboarding-push', 'wait-for-first-order', 'member-offer-email', 'done']);
    expect(p.messages).toEqual([]);
    expect(p.suppressions).toEqual([
      { at: '2026-01-01T00:00:00.000Z', node: 'welcome-email', channel: 'email', reason: 'consent:email' },
      { at: '2026-01-01T01:00:00.000Z', node: 'onboarding-push', channel: 'push', reason: 'no-address' },
      { at: '2026-01-05T01:00:00.000Z', node: 'member-offer-email', channel: 'email', reason: 'consent:email' },
    ]);
  });
});
