import { join } from 'node:path';
import { ledgerOutcomes } from '../../lambdas/core/engagement/ports';
import { nudge } from './nudge-journey';
import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import { loadJourneyDir } from '../../lambdas/local/stack';
import { ledgerEntry, request } from './consent-support';
import { openVirtualStack } from './local-stack';

const address = (n: number) => `texted${n}@example.com`;
const profileOf = (n: number) => newProfileId('email', address(n));
const DAY = '2026-12-01';


/**
 * SMS and push outcomes where each provider reports them: an SMS's End User Messaging status events on the bus (posted
 * through the outbox as the service would put them), a push's DeliveryStatus in Pinpoint's answer to the send.
 */
describe('SMS and push outcomes on the ledger, the counters and the report', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    ctx = await openVirtualStack({ journeys: [...loadJourneyDir(join(__dirname, '..', '..', 'statemachines')), ...nudge] });
  });
  afterAll(() => ctx.stack.stop());

  /** Sends manual-outreach's SMS to the profile and returns the run and its outbox message. */
  const text = async (n: number) => {
    await ctx.put('account.updated', { id: `texted-account-${n}`, identities: { email: address(n) }, attributes: { phone: `+4917000050${n}` } });
    const body = { identities: { email: address(n) }, context: { channel: 'sms', text: 'Your quote is ready.' } };
    const reply = await request(ctx.stack, 'POST', '/journeys/manual-outreach/trigger', { body });
    expect(reply.status).toBe(202);
    await ctx.stack.settle();
    const [message] = ctx.stack.outbox.list({ profileId: profileOf(n), channel: 'sms' });
    return { executionArn: reply.body.executionArn as string, message };
  };
  const post = async (messageId: string, body: unknown) => {
    const reply = await request(ctx.stack, 'POST', `/local/outbox/${encodeURIComponent(messageId)}/events`, { body });
    await ctx.stack.settle();
    return reply;
  };
  const counts = async (journeyId: string) => {
    const totals = await ctx.stack.counters.read(journeyId, DAY, DAY);
    return Object.fromEntries(totals.map((t) => [[t.name, t.dims.node, t.dims.channel, t.dims.reason ?? '-'].join(' '), t.value]));
  };
  const nodeReport = async (journeyId: string, nodeId: string) => {
    const reply = await request(ctx.stack, 'GET', `/journeys/${journeyId}/report?from=${DAY}&to=${DAY}`);
    expect(reply.status).toBe(200);
    return (reply.body.nodes as { id: string }[]).find((node) => node.id === nodeId) as Record<string, unknown>;
  };

  it('sends the SMS with the context its status events come back with, and the outbox shows its messageId', async () => {
    const { executionArn, message } = await text(1);
    expect(message.messageId).toMatch(/^local-\d+$/);
    expect(message.context).toEqual({
      journey: 'manual-outreach',
      node: 'outreach-sms',
      variant: 'none',
      execution: executionArn.split(':').pop(),
      configurationSet: 'waymark-local',
    });
    expect(await ledgerEntry(ctx.stack, executionArn, 'outreach-sms')).toMatchObject({ status: 'sent', messageId: message.messageId });
  });

  it('marks the SMS delivered once on the ledger, the counters and the report, however often the event is delivered', async () => {
    const before = await nodeReport('manual-outreach', 'outreach-sms');
    const { executionArn, message } = await text(2);
    for (let i = 0; i < 3; i++) expect((await post(message.messageId, { type: 'delivery' })).status).toBe(202);
    const entry = (await ledgerEntry(ctx.stack, executionArn, 'outreach-sms'))!;
    expect(ledgerOutcomes(entry).get('delivered')).toEqual({ at: '2026-12-01T09:00:00.000Z' });
    expect(entry.deliveredAt).toBe('2026-12-01T09:00:00.000Z');
    const after = await nodeReport('manual-outreach', 'outreach-sms');
    expect([after.sent, after.delivered]).toEqual([(before?.sent as number ?? 0) + 1, (before?.delivered as number ?? 0) + 1]);
    expect(ctx.stack.bus.deadLetters).toEqual([]);
  });

  it("records a carrier failure once with the carrier's status, counted as undelivered by that status", async () => {
    const { executionArn, message } = await text(3);
    const before = await counts('manual-outreach');
    for (let i = 0; i < 2; i++) expect((await post(message.messageId, { type: 'failure', status: 'INVALID' })).status).toBe(202);
    expect(ledgerOutcomes((await ledgerEntry(ctx.stack, executionArn, 'outreach-sms'))!).get('undelivered')).toMatchObject({ detail: expect.stringMatching(/^INVALID/) });
    const after = await counts('manual-outreach');
    expect((after['undelivered outreach-sms sms INVALID'] ?? 0) - (before['undelivered outreach-sms sms INVALID'] ?? 0)).toBe(1);
    const report = await nodeReport('manual-outreach', 'outreach-sms');
    expect(report.undelivered).toMatchObject({ byReason: { INVALID: expect.any(Number) } });
  });

  it('puts the very event End User Messaging SMS would put on the default bus', async () => {
    const { message } = await text(4);
    const reply = await post(message.messageId, { type: 'failure' });
    expect(reply.body).toMatchObject({
      'detail-type': 'Text Message Delivery Status Updated',
      detail: {
        messageId: message.messageId,
        messageStatus: 'BLOCKED',
        isFinal: true,
        destinationPhoneNumber: '+49170000504',
        context: { journey: 'manual-outreach', node: 'outreach-sms', configurationSet: 'waymark-local' },
      },
    });
  });

  it('answers 400 naming the field for an email-only event on an SMS, a status on a delivery, an unknown status, and a push', async () => {
    const { message } = await text(5);
    for (const [body, field] of [
      [{ type: 'open' }, 'type'],
      [{ type: 'delivery', status: 'BLOCKED' }, 'status'],
      [{ type: 'failure', status: 'LOST_IN_SPACE' }, 'status'],
      [{ type: 'failure', link: 'https://shop.example' }, 'link'],
    ] as const) {
      const reply = await post(message.messageId, body);
      expect({ body, status: reply.status, field: reply.body.errors?.[0]?.field }).toEqual({ body, status: 400, field });
    }
    // And an SMS event on an email.
    await ctx.put('account.updated', { id: 'texted-account-8', identities: { email: address(8) }, attributes: {} });
    const mail = { identities: { email: address(8) }, context: { subject: 'Quote', text: 'Here.' } };
    expect((await request(ctx.stack, 'POST', '/journeys/manual-outreach/trigger', { body: mail })).status).toBe(202);
    await ctx.stack.settle();
    const [anEmail] = ctx.stack.outbox.list({ profileId: profileOf(8), channel: 'email' });
    const refused = await post(anEmail.messageId, { type: 'failure' });
    expect([refused.status, refused.body.errors[0].field]).toEqual([400, 'type']);
  });

  it.each<[string, string, string]>([
    ['SUCCESSFUL', 'sent', 'sent nudge-push push -'],
    ['PERMANENT_FAILURE', 'failed', 'failed nudge-push push failed'],
  ])("records a push's DeliveryStatus %s from Pinpoint's answer as %s on the ledger, the counters and the report", async (status, outcome, counter) => {
    const n = status === 'SUCCESSFUL' ? 6 : 7;
    await ctx.put('account.updated', { id: `texted-account-${n}`, identities: { email: address(n) }, attributes: { pushToken: `device-t${n}` } });
    const before = await counts('nudge');
    ctx.stack.outbox.inject({ channel: 'push', deliveryStatus: status });
    const reply = await request(ctx.stack, 'POST', '/journeys/nudge/trigger', { body: { profileId: profileOf(n) } });
    expect(reply.status).toBe(202);
    await ctx.stack.settle();
    expect(await ledgerEntry(ctx.stack, reply.body.executionArn as string, 'nudge-push')).toMatchObject({ status: outcome });
    const after = await counts('nudge');
    expect((after[counter] ?? 0) - (before[counter] ?? 0)).toBe(1);
    const report = await nodeReport('nudge', 'nudge-push');
    expect(outcome === 'sent' ? report.sent : (report.failed as { byReason: Record<string, number> }).byReason.failed).toBeGreaterThanOrEqual(1);
    // There is nothing to post for a push: its outcome came with the send.
    const [pushed] = ctx.stack.outbox.list({ profileId: profileOf(n), channel: 'push' });
    if (pushed) expect((await post(pushed.messageId, { type: 'delivery' })).body.errors[0].field).toBe('messageId');
  });
});
