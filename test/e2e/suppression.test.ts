import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import { ledgerEntry, request, sesDetail, skipReason } from './consent-support';
import { openVirtualStack } from './local-stack';

const client = (n: number) => `bounce${n}@example.com`;
const profileOf = (n: number) => newProfileId('email', client(n));

describe('suppression list from SES bounces and complaints on the bus', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    ctx = await openVirtualStack();
  });
  afterAll(() => ctx.stack.stop());

  /** Runs manual-outreach (transactional) once for the profile and returns the run. */
  const outreach = async (n: number, context: Record<string, unknown> = { subject: 'Your policy', text: 'Renewed.' }) => {
    const reply = await request(ctx.stack, 'POST', '/journeys/manual-outreach/trigger', { body: { identities: { email: client(n) }, context } });
    expect(reply.status).toBe(202);
    // The journey has no wait: once the stack has settled, the run has ended.
    await ctx.stack.settle();
    const run = ctx.stack.executions.get(reply.body.executionArn)!;
    expect(run.status).toBe('SUCCEEDED');
    return run;
  };
  const sesEvent = (type: 'Email Bounced' | 'Email Complaint Received', detail: Record<string, unknown>) => ctx.put(type, detail, 'aws.ses');

  it('suppresses an address after a permanent bounce: no further email to it, not even transactional; its SMS still goes', async () => {
    await ctx.put('account.updated', { id: 'bounce-account-1', identities: { email: client(1), phone: '+491700002001' } });
    expect((await outreach(1)).path).toContain('outreach-email.deliver');

    await sesEvent('Email Bounced', sesDetail('bounce', client(1).toUpperCase()));
    const run = await outreach(1);
    expect(run.path).not.toContain('outreach-email.deliver');
    expect(skipReason(run, 'outreach_email')).toBe('suppressed:bounce');
    expect(await ledgerEntry(ctx.stack, run.executionArn, 'outreach-email')).toMatchObject({ status: 'suppressed', reason: 'suppressed:bounce' });
    expect(await ctx.stack.suppression.isSuppressed(client(1))).toMatchObject({ address: client(1), reason: 'bounce' });
    expect((await outreach(1, { channel: 'sms', text: 'Call us.' })).path).toContain('outreach-sms.deliver');
    expect(ctx.stack.outbox.list({ profileId: profileOf(1) }).map((m) => m.channel)).toEqual(['email', 'sms']);
  });

  it('keeps sending after a transient bounce', async () => {
    await sesEvent('Email Bounced', sesDetail('bounce', client(2), 'Transient'));
    expect((await outreach(2)).path).toContain('outreach-email.deliver');
    expect(await ctx.stack.suppression.isSuppressed(client(2))).toBeUndefined();
  });

  it('suppresses an address after a complaint, and marketing email to it stops too', async () => {
    await sesEvent('Email Complaint Received', sesDetail('complaint', client(3)));
    await ctx.put('member.signed-up', { id: 'bounce-signup-3', identities: { email: client(3) } });
    // The series waits for a login, then for an order (3 + 4 days): let both time out so the run ends.
    await ctx.clock.runUntilIdle();
    const [welcome] = ctx.stack.executions.list({ journeyId: 'welcome', profileId: profileOf(3) });
    expect(welcome.status).toBe('SUCCEEDED');
    expect(skipReason(welcome, 'welcome_email')).toBe('suppressed:complaint');
    expect(ctx.stack.outbox.list({ profileId: profileOf(3) })).toEqual([]);
  });

  it('takes SES events for what they are: not rejected as invalid business events, and no profile made of them', async () => {
    await sesEvent('Email Bounced', sesDetail('bounce', client(4)));
    const rejected = await request(ctx.stack, 'GET', '/events/rejected');
    expect(rejected.body.events.filter((e: { raw: { source: string } }) => e.raw.source === 'aws.ses')).toEqual([]);
    expect(ctx.stack.bus.deadLetters).toEqual([]);
    expect((await request(ctx.stack, 'GET', `/profiles/${profileOf(4)}`)).status).toBe(404);
  });
});
