import { simulate as simulateWith, type SimulateOptions } from '../../lambdas/simulate';

/**
 * This playbook's own paths and timing, WITHOUT the shipped governance rules (`rules: []`): starting at midnight UTC,
 * quiet hours would hold its SMS and push until 08:00, and repeated runs would meet the weekly email cap. The playbooks
 * under the shipped rules: test/e2e/governed-playbooks.test.ts.
 */
const simulate = (options: SimulateOptions) => simulateWith({ rules: [], ...options });

/** One simulation per branch of statemachines/manual-outreach.json (API-triggered; start 2026-01-01T00:00:00Z). */
const journey = 'statemachines/manual-outreach.json';
const trigger = (at: string, identities: Record<string, string>, context: Record<string, string>) => ({ at, trigger: 'manual-outreach', identities, context });

describe('manual-outreach playbook, simulated', () => {
  it('emails the subject and text of the context', async () => {
    const sim = await simulate({ journey, events: [trigger('+2h', { email: 'ann@example.com' }, { subject: 'Your documents', text: 'They are ready.' })] });
    const p = sim.profile('email:ann@example.com');
    expect(p.path).toEqual(['channel', 'outreach-email', 'done']);
    expect(p.messages).toMatchObject([{ at: '2026-01-01T02:00:00.000Z', channel: 'email', recipient: 'ann@example.com', subject: 'Your documents' }]);
    expect(p.messages[0].body).toBe('They are ready.');
    expect(p.run().path.map((s) => s.state)).toContain('outreach-email.deliver');
    expect(p.run().ended).toEqual({ status: 'SUCCEEDED', at: '2026-01-01T02:00:00.000Z' });
  });

  it('falls back to a default subject when the context has none', async () => {
    const sim = await simulate({ journey, events: [trigger('+0s', { email: 'ann@example.com' }, { text: 'Hello.' })] });
    expect(sim.profile('email:ann@example.com').messages.map((m) => m.subject)).toEqual(['A message for you']);
  });

  it('texts the context when it asks for sms', async () => {
    const sim = await simulate({ journey, events: [trigger('+0s', { phone: '+4915100000001' }, { channel: 'sms', text: 'Your car is ready.' })] });
    const p = sim.profile('phone:+4915100000001');
    expect(p.path).toEqual(['channel', 'outreach-sms', 'done']);
    expect(p.messages.map((m) => [m.at, m.channel, m.recipient, m.body])).toEqual([['2026-01-01T00:00:00.000Z', 'sms', '+4915100000001', 'Your car is ready.']]);
  });

  it('texts a known profile named by one of its identities, at the phone number an earlier event gave', async () => {
    const events = [
      { at: '+0s', type: 'account.updated', identities: { email: 'ann@example.com', phone: '+4915100000002' } },
      { at: '+1h', trigger: 'manual-outreach', profile: 'email:ann@example.com', context: { channel: 'sms', text: 'Your advisor will call at 3 pm.' } },
    ];
    const p = (await simulate({ journey, events })).profile('email:ann@example.com');
    expect(p.path).toEqual(['channel', 'outreach-sms', 'done']);
    expect(p.messages.map((m) => [m.at, m.channel, m.recipient, m.body])).toEqual([['2026-01-01T01:00:00.000Z', 'sms', '+4915100000002', 'Your advisor will call at 3 pm.']]);
  });

  it('sends the free text as marketing: not to a profile that opted out of email since the last trigger', async () => {
    const ann = { email: 'ann@example.com' };
    const events = [trigger('+0s', ann, { text: 'Spring offers.' }), { at: '+1d', setConsent: { email: 'opted-out' }, identities: ann }, trigger('+2d', ann, { text: 'Summer offers.' })];
    const p = (await simulate({ journey, events })).profile('email:ann@example.com');
    expect(p.runs.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(p.messages.map((m) => [m.at, m.body.split('\n')[0]])).toEqual([['2026-01-01T00:00:00.000Z', 'Spring offers.']]);
    expect(p.suppressions).toEqual([{ at: '2026-01-03T00:00:00.000Z', node: 'outreach-email', channel: 'email', reason: 'consent:email' }]);
  });

  it('starts one run per idempotency key, however often the trigger comes', async () => {
    const keyed = { ...trigger('+0s', { email: 'ann@example.com' }, { text: 'Welcome aboard.' }), idempotencyKey: 'campaign-7:ann' };
    const p = (await simulate({ journey, events: [keyed, { ...keyed, at: '+1h' }] })).profile('email:ann@example.com');
    expect(p.runs.map((r) => [r.startedAt, r.status])).toEqual([['2026-01-01T00:00:00.000Z', 'SUCCEEDED']]);
    expect(p.messages.map((m) => m.subject)).toEqual(['A message for you']);
  });

  it('sends nothing on a channel the profile opted out of, nor to a profile without an address on it', async () => {
    const sim = await simulate({
      journey,
      profiles: [{ identities: { email: 'ann@example.com', phone: '+4915100000001' }, consent: { sms: 'opted-out' } }],
      events: [
        trigger('+0s', { email: 'ann@example.com' }, { channel: 'sms', text: 'Free text is marketing.' }),
        trigger('+1h', { email: 'bob@example.com' }, { channel: 'sms', text: 'Bob has no phone.' }),
      ],
    });
    const ann = sim.profile('email:ann@example.com');
    expect([ann.path, ann.messages]).toEqual([['channel', 'outreach-sms', 'done'], []]);
    expect(ann.suppressions).toEqual([{ at: '2026-01-01T00:00:00.000Z', node: 'outreach-sms', channel: 'sms', reason: 'consent:sms' }]);
    expect(sim.profile('email:bob@example.com').suppressions.map((s) => s.reason)).toEqual(['no-address']);
  });

  it('runs again for every trigger, even for the same profile', async () => {
    const events = [
      trigger('+0s', { email: 'ann@example.com' }, { subject: 'One', text: '1' }),
      trigger('+0s', { email: 'ann@example.com' }, { subject: 'Two', text: '2' }),
    ];
    const p = (await simulate({ journey, events })).profile('email:ann@example.com');
    expect(p.runs.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(p.messages.map((m) => m.subject).sort()).toEqual(['One', 'Two']);
  });
});
