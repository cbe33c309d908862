import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import { setConsent, skipReason } from './consent-support';
import { call } from './http';
import { bodies, openVirtualStack } from './local-stack';

const email = (n: number) => `client${n}@example.com`;
const profileOf = (n: number) => newProfileId('email', email(n));

describe('manual-outreach playbook (API-triggered)', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    ctx = await openVirtualStack();
  });
  afterAll(() => ctx.stack.stop());

  /** Triggers the journey through the API and lets the stack settle (the run has ended or parked). */
  const trigger = async (body: unknown) => {
    const reply = await call(ctx.stack, 'POST', '/journeys/manual-outreach/trigger', body);
    await ctx.stack.settle();
    return reply;
  };
  const runsOf = (n: number) => ctx.stack.executions.list({ journeyId: 'manual-outreach', profileId: profileOf(n) });

  it('emails the subject and text of the context to a profile named by its identities, creating the profile', async () => {
    const reply = await trigger({ identities: { email: email(1) }, context: { subject: 'Your documents', text: 'They are ready to sign.' } });

    expect(reply.status).toBe(202);
    expect(reply.body).toMatchObject({ status: 'started', journeyId: 'manual-outreach' });
    const [run] = runsOf(1);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.executionArn).toBe(reply.body.executionArn);
    expect(run.path).toContain('outreach-email.deliver');
    const messages = ctx.stack.outbox.list({ profileId: profileOf(1) });
    expect(bodies(messages)).toEqual(['email:outreach-email']);
    expect(messages[0]).toMatchObject({ recipient: email(1), subject: 'Your documents', body: 'They are ready to sign.' });
    // At once: the message goes out at the moment of the trigger.
    expect(messages[0].time).toBe(ctx.clock.now().toISOString());
    expect(await ctx.stack.profiles.get(profileOf(1))).toMatchObject({ identities: { email: email(1) } });
  });

  it('texts a known profile named by its id when the context asks for SMS', async () => {
    await ctx.put('account.updated', { id: 'account-2', identities: { email: email(2), phone: '+4917000000002' }, properties: {} });
    const reply = await trigger({ profileId: profileOf(2), context: { channel: 'sms', text: 'Your advisor will call at 3 pm.' } });

    expect(reply.status).toBe(202);
    const [run] = runsOf(2);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.path).not.toContain('outreach-email');
    const messages = ctx.stack.outbox.list({ profileId: profileOf(2) });
    expect(bodies(messages)).toEqual(['sms:outreach-sms']);
    expect(messages[0]).toMatchObject({ recipient: '+4917000000002', body: 'Your advisor will call at 3 pm.' });
  });

  it('sends no SMS to a profile without a phone number, and records why', async () => {
    const reply = await trigger({ identities: { email: email(3) }, context: { channel: 'sms', text: 'Call us back.' } });

    expect(reply.status).toBe(202);
    const [run] = runsOf(3);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.path).not.toContain('outreach-sms.deliver');
    expect((run.output as { steps: { outreach_sms: { reason: string } } }).steps.outreach_sms.reason).toBe('no-address');
    expect(ctx.stack.outbox.list({ profileId: profileOf(3) })).toEqual([]);
  });

  it('sends the free text of the API as marketing: with a one-click unsubscribe link, and not to a profile that opted out', async () => {
    await trigger({ identities: { email: email(5) }, context: { text: 'Our spring offers.' } });
    expect(runsOf(5).map((r) => r.status)).toEqual(['SUCCEEDED']);
    const [message] = ctx.stack.outbox.list({ profileId: profileOf(5) });
    expect(message.headers).toMatchObject({ 'List-Unsubscribe': expect.stringMatching(/^<http.*unsubscribe/), 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' });

    await setConsent(ctx.stack, profileOf(5), { email: 'opted-out' });
    await trigger({ profileId: profileOf(5), context: { text: 'Our summer offers.' } });
    const runs = runsOf(5);
    expect(runs.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(runs.map((r) => skipReason(r, 'outreach_email'))).toContain('consent:email');
    expect(ctx.stack.outbox.list({ profileId: profileOf(5) })).toHaveLength(1);
  });

  it('starts one run per idempotency key however often it is called, and a run per call without one', async () => {
    const request = { identities: { email: email(4) }, context: { text: 'Welcome aboard.' }, idempotencyKey: 'campaign-7:client4' };
    const first = await trigger(request);
    const second = await trigger(request);

    expect(first.status).toBe(202);
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ status: 'already-started', executionArn: first.body.executionArn });
    expect(runsOf(4).map((r) => r.status)).toEqual(['SUCCEEDED']);
    const messages = ctx.stack.outbox.list({ profileId: profileOf(4) });
    expect(messages).toHaveLength(1);
    expect(messages[0].subject).toBe('A message for you');

    // `reentry: always`: without a key, each call is a new run.
    const { idempotencyKey: _key, ...unkeyed } = request;
    expect((await trigger(unkeyed)).status).toBe(202);
    expect((await trigger(unkeyed)).status).toBe(202);
    expect(runsOf(4).map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(ctx.stack.outbox.list({ profileId: profileOf(4) })).toHaveLength(3);
  });
});
