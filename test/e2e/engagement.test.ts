import { ledgerOutcomes } from '../../lambdas/core/engagement/ports';
import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import { ledgerEntry, request } from './consent-support';
import { openVirtualStack } from './local-stack';

const address = (n: number) => `engaged${n}@example.com`;
const profileOf = (n: number) => newProfileId('email', address(n));
const DAY = '2026-12-01';

describe('engagement events: SES delivery, open and click events of an outbox email, through the local bus', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    ctx = await openVirtualStack();
  });
  afterAll(() => ctx.stack.stop());

  /** Sends manual-outreach's email (or SMS) to the profile and returns the run and its outbox message. */
  const send = async (n: number, channel: 'email' | 'sms' = 'email') => {
    await ctx.put('account.updated', { id: `engaged-account-${n}`, identities: { email: address(n) }, attributes: { phone: `+4917000030${n}` } });
    const context = { subject: 'Your quote', text: 'Here it is.', ...(channel === 'sms' ? { channel } : {}) };
    const reply = await request(ctx.stack, 'POST', '/journeys/manual-outreach/trigger', { body: { identities: { email: address(n) }, context } });
    expect(reply.status).toBe(202);
    await ctx.stack.settle();
    const [message] = ctx.stack.outbox.list({ profileId: profileOf(n), channel });
    return { executionArn: reply.body.executionArn as string, message };
  };
  const post = async (messageId: string, body: unknown) => {
    const reply = await request(ctx.stack, 'POST', `/local/outbox/${encodeURIComponent(messageId)}/events`, { body });
    await ctx.stack.settle();
    return reply;
  };
  const counts = async () => {
    const totals = await ctx.stack.counters.read('manual-outreach', DAY, DAY);
    return Object.fromEntries(totals.map((t) => [[t.name, t.dims.node, t.dims.agent ?? '-'].join(' '), t.value]));
  };
  const computed = async (n: number) => ((await ctx.stack.profiles.get(profileOf(n)))!.computed ?? {}) as Record<string, { count: number } | undefined>;

  it('tags every email with journey, version, node, variant and execution, and the outbox shows its messageId', async () => {
    const { executionArn, message } = await send(1);
    expect(message.messageId).toMatch(/^local-\d+$/);
    const version = ctx.stack.journeys.find((j) => j.journey.id === 'manual-outreach')!.version;
    expect(message.tags).toEqual({
      journey: 'manual-outreach',
      version,
      node: 'outreach-email',
      variant: 'none',
      execution: executionArn.split(':').pop(),
      profile: profileOf(1),
      class: 'marketing',
    });
    const listed = await request(ctx.stack, 'GET', `/local/outbox?profileId=${profileOf(1)}`);
    expect(listed.body.messages[0]).toMatchObject({ messageId: message.messageId, tags: { node: 'outreach-email' } });
  });

  it('records delivery, open and click once on the ledger, the profile and the counters, however often each is delivered', async () => {
    const { executionArn, message } = await send(2);
    const before = await counts();
    for (let i = 0; i < 2; i++) expect((await post(message.messageId, { type: 'delivery' })).status).toBe(202);
    await ctx.clock.advance('1h');
    for (let i = 0; i < 2; i++) expect((await post(message.messageId, { type: 'open' })).status).toBe(202);
    for (let i = 0; i < 2; i++) expect((await post(message.messageId, { type: 'click', link: 'https://shop.example/quote/2' })).status).toBe(202);

    const entry = (await ledgerEntry(ctx.stack, executionArn, 'outreach-email'))!;
    const outcomes = ledgerOutcomes(entry);
    expect([...outcomes.keys()].sort()).toEqual(['clicked-human', 'delivered', 'opened-human']);
    expect(outcomes.get('clicked-human')).toMatchObject({ agent: 'human', link: 'https://shop.example/quote/2' });
    expect(outcomes.get('delivered')!.at).toBe('2026-12-01T09:00:00.000Z');

    const stats = await computed(2);
    expect([stats['email.delivered']?.count, stats['email.opened']?.count, stats['email.clicked']?.count]).toEqual([1, 1, 1]);

    const after = await counts();
    const delta = (key: string) => (after[key] ?? 0) - (before[key] ?? 0);
    expect([delta('delivered outreach-email -'), delta('opened outreach-email human'), delta('clicked outreach-email human')]).toEqual([1, 1, 1]);
    expect(ctx.stack.bus.deadLetters).toEqual([]);
  });

  it('counts an Apple MPP open and a click seconds after delivery as machine, apart from people', async () => {
    const { executionArn, message } = await send(3);
    const before = await counts();
    await post(message.messageId, { type: 'delivery' });
    await post(message.messageId, { type: 'open', userAgent: 'Mozilla/5.0', ip: '17.58.100.1' });
    await post(message.messageId, { type: 'click', link: 'https://shop.example/quote/3' });
    await ctx.clock.advance('2h');
    await post(message.messageId, { type: 'open' });

    const outcomes = ledgerOutcomes((await ledgerEntry(ctx.stack, executionArn, 'outreach-email'))!);
    expect(outcomes.get('opened-machine')).toMatchObject({ agent: 'machine', agentReason: 'apple-mail-privacy-protection' });
    expect(outcomes.get('clicked-machine')).toMatchObject({ agent: 'machine', agentReason: 'click-right-after-delivery' });
    expect(outcomes.get('opened-human')).toMatchObject({ agent: 'human' });
    const after = await counts();
    const delta = (key: string) => (after[key] ?? 0) - (before[key] ?? 0);
    expect([delta('opened outreach-email machine'), delta('opened outreach-email human'), delta('clicked outreach-email machine')]).toEqual([1, 1, 1]);
  });

  it('suppresses the address of a bounced outbox email and records the bounce on its ledger entry', async () => {
    const { executionArn, message } = await send(4);
    await post(message.messageId, { type: 'bounce' });
    await post(message.messageId, { type: 'bounce' });
    expect(await ctx.stack.suppression.isSuppressed(address(4))).toMatchObject({ reason: 'bounce' });
    expect(ledgerOutcomes((await ledgerEntry(ctx.stack, executionArn, 'outreach-email'))!).get('bounced')).toMatchObject({ detail: 'Permanent' });
    expect((await computed(4))['email.bounced']?.count).toBe(1);
  });

  it('puts the very event SES would put: detail-type, eventType, mail.messageId and mail.tags as lists', async () => {
    const { message } = await send(5);
    const reply = await post(message.messageId, { type: 'open', userAgent: 'Mozilla/5.0 (iPhone)', ip: '198.51.100.7' });
    expect(reply.body).toMatchObject({
      'detail-type': 'Email Opened',
      detail: {
        eventType: 'Open',
        mail: { messageId: message.messageId, destination: [address(5)], tags: { 'ses:configuration-set': ['waymark-local'], journey: ['manual-outreach'] } },
        open: { userAgent: 'Mozilla/5.0 (iPhone)', ipAddress: '198.51.100.7', timestamp: expect.any(String) },
      },
    });
  });

  it('answers problem+json for an unknown message, a bad type, a click without link and an email event on an SMS', async () => {
    const unknown = await post('local-999999', { type: 'open' });
    expect([unknown.status, unknown.contentType]).toEqual([404, 'application/problem+json']);
    const { message } = await send(6);
    const badType = await post(message.messageId, { type: 'read' });
    expect(badType.status).toBe(400);
    expect(badType.body.errors.map((e: { field: string }) => e.field)).toEqual(['type']);
    const noLink = await post(message.messageId, { type: 'click' });
    expect([noLink.status, noLink.body.errors[0].field]).toEqual([400, 'link']);
    const badLink = await post(message.messageId, { type: 'click', link: 'javascript:alert(1)' });
    expect([badLink.status, badLink.body.errors[0].field]).toEqual([400, 'link']);
    const { message: sms } = await send(7, 'sms');
    const notEmail = await post(sms.messageId, { type: 'open' });
    expect([notEmail.status, notEmail.body.errors[0].field]).toEqual([400, 'type']);
    const tooLong = await post('x'.repeat(300), { type: 'open' });
    expect(tooLong.status).toBe(400);
  });
});
