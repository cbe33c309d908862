import { simulate } from '../../lambdas/simulate';

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
