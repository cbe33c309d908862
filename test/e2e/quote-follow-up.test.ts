import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import { bodies, openVirtualStack, parkedStates } from './local-stack';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

const email = (n: number) => `customer${n}@example.com`;
const profileOf = (n: number) => newProfileId('email', email(n));
const quoteRequested = (n: number, identities: Record<string, string> = { email: email(n) }, attributes: Record<string, string> = {}) => ({
  id: `quote-request-${n}`,
  identities,
  attributes: { firstName: `Customer${n}`, ...attributes },
  properties: { quoteId: `quote-${n}`, product: 'car insurance', premium: '31.50', quoteUrl: `https://insure.example/quotes/${n}` },
});
const policyPurchased = (n: number, quoteId = `quote-${n}`) => ({ id: `policy-${n}-${quoteId}`, identities: { email: email(n) }, properties: { quoteId, policyId: `policy-${n}` } });

describe('quote-follow-up playbook (purchases)', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    ctx = await openVirtualStack();
  });
  afterAll(() => ctx.stack.stop());

  const runsOf = (n: number) => ctx.stack.executions.list({ journeyId: 'quote-follow-up', profileId: profileOf(n) });

  it('sends nothing when the policy is bought on the first day', async () => {
    await ctx.put('quote.requested', quoteRequested(1));
    await ctx.clock.advance(DAY - 1);
    expect(await parkedStates(ctx.stack, 'quote-follow-up', profileOf(1))).toEqual(['wait-day-1']);
    await ctx.put('policy.purchased', policyPurchased(1));
    const [run] = runsOf(1);

    expect(run.status).toBe('SUCCEEDED');
    expect(run.path).toEqual(['wait-day-1', 'bought']);
    await ctx.clock.advance('1d');
    expect(ctx.stack.outbox.list({ profileId: profileOf(1) })).toEqual([]);
  });

  it('stops after the first reminder when this quote is bought, and not when a policy for another quote is', async () => {
    const from = ctx.clock.nowMs();
    await ctx.put('quote.requested', quoteRequested(2));
    await ctx.clock.advance('1d');
    expect(await parkedStates(ctx.stack, 'quote-follow-up', profileOf(2))).toEqual(['wait-day-3']);
    const [first] = ctx.stack.outbox.list({ profileId: profileOf(2) });
    expect(first).toMatchObject({ nodeId: 'first-reminder-email', time: iso(from + DAY) });

    await ctx.put('policy.purchased', policyPurchased(2, 'quote-elsewhere'));
    const [waiting] = runsOf(2);
    expect(waiting.status).toBe('RUNNING');
    expect(ctx.stack.executions.parkedAt(waiting.executionArn)).toEqual(['wait-day-3']);

    await ctx.clock.advance('1d');
    await ctx.put('policy.purchased', policyPurchased(2));
    const [run] = runsOf(2);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.path.at(-1)).toBe('bought');
    expect((run.output as { steps: { wait_day_3: { event: { properties: { quoteId: string } } } } }).steps.wait_day_3.event.properties.quoteId).toBe('quote-2');
    await ctx.clock.runUntilIdle();
    expect(bodies(ctx.stack.outbox.list({ profileId: profileOf(2) }))).toEqual(['email:first-reminder-email']);
  });
});

describe('quote-follow-up playbook (no purchase)', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    ctx = await openVirtualStack();
  });
  afterAll(() => ctx.stack.stop());

  it.each<{ n: number; how: string; identities: Record<string, string>; attributes: Record<string, string>; phone: string }>([
    { n: 3, how: 'a phone identity', identities: { email: email(3), phone: '+4915100000003' }, attributes: {}, phone: '+4915100000003' },
    { n: 4, how: 'a phone attribute', identities: { email: email(4) }, attributes: { phone: '+4915100000004' }, phone: '+4915100000004' },
  ])('sends an email on day 1, an SMS on day 3 and a last email on day 7 to a customer with $how', async ({ n, identities, attributes, phone }) => {
    const from = ctx.clock.nowMs();
    await ctx.put('quote.requested', quoteRequested(n, identities, attributes));
    await ctx.clock.runUntilIdle();
    const [run] = ctx.stack.executions.list({ journeyId: 'quote-follow-up', profileId: profileOf(n) });

    expect(run.status).toBe('SUCCEEDED');
    expect(run.path.at(-1)).toBe('done');
    expect(run.stopDate).toBe(iso(from + 7 * DAY));
    const messages = ctx.stack.outbox.list({ profileId: profileOf(n) });
    expect(bodies(messages)).toEqual(['email:first-reminder-email', 'sms:sms-reminder', 'email:last-reminder-email']);
    expect(messages.map((m) => m.time)).toEqual([iso(from + DAY), iso(from + 3 * DAY), iso(from + 7 * DAY)]);
    expect(messages[0]).toMatchObject({ recipient: email(n), subject: 'Your car insurance quote: 31.50 a month' });
    // A marketing email ends with its one-click unsubscribe link.
    expect(messages[0].body).toMatch(new RegExp(`^Hi Customer${n}, your quote quote-${n} is ready: https://insure.example/quotes/${n}\\n\\nUnsubscribe: http://127\\.0\\.0\\.1:\\d+/unsubscribe\\?token=[\\w.-]+$`));
    expect(messages[1]).toMatchObject({ recipient: phone, body: `Your car insurance quote is still available: https://insure.example/quotes/${n}` });
    expect(messages[2]).toMatchObject({ recipient: email(n), subject: 'Your quote expires tomorrow' });
  });

  it('sends three emails to a customer without a phone number', async () => {
    const from = ctx.clock.nowMs();
    await ctx.put('quote.requested', quoteRequested(5));
    await ctx.clock.runUntilIdle();
    const [run] = ctx.stack.executions.list({ journeyId: 'quote-follow-up', profileId: profileOf(5) });

    expect(run.status).toBe('SUCCEEDED');
    expect(run.path).not.toContain('sms-reminder');
    const messages = ctx.stack.outbox.list({ profileId: profileOf(5) });
    expect(bodies(messages)).toEqual(['email:first-reminder-email', 'email:second-reminder-email', 'email:last-reminder-email']);
    expect(messages.map((m) => m.time)).toEqual([iso(from + DAY), iso(from + 3 * DAY), iso(from + 7 * DAY)]);
    expect(messages.map((m) => m.recipient)).toEqual([email(5), email(5), email(5)]);
    expect(messages[1].subject).toBe('Still thinking about it?');
  });
});
