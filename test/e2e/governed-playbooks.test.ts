import { join } from 'node:path';
import { stepKey } from '../../lambdas/core/journey/graph';
import { assignEntry } from '../../lambdas/core/measure/assignment';
import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import { loadJourneyDir } from '../../lambdas/local/stack';
import { ledgerEntry } from './consent-support';
import { openVirtualStack } from './local-stack';

/**
 * Issue 13, done when: three playbooks (welcome, cart-abandonment, quote-follow-up) for the same customer over a
 * virtual week and a day, under the SHIPPED rules (rules/: 3 marketing emails in any 7 days, 5 messages a calendar
 * week, 1 SMS a day, no SMS or push 21:00–08:00). Every message and every suppression is checked, with its time.
 * The customer has no time zone: the stack's default (UTC).
 */
const MONDAY = '2026-12-07T09:00:00.000Z';
const journeys = loadJourneyDir(join(__dirname, '..', '..', 'statemachines'));
const quote = journeys.find((j) => j.journey.id === 'quote-follow-up')!.journey;

/** A customer the router puts in quote-follow-up's `text-first` arm (not in its holdouts), by its own assignment. */
function textFirstCustomer(): string {
  for (let i = 0; i < 200; i++) {
    const email = `governed-${i}@example.com`;
    const assignment = assignEntry(quote, newProfileId('email', email));
    if (!assignment.holdout && assignment.variants[stepKey('channel-test')] === 'text-first') return email;
  }
  throw new Error('no text-first customer among 200');
}

describe('three playbooks for one customer under the shipped rules, over a virtual week', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    // No `rules` option: the stack loads rules/ as it does for `npm start`.
    ctx = await openVirtualStack({ start: MONDAY });
  });
  afterAll(() => ctx.stack.stop());

  it('sends what caps and quiet hours allow, defers the night SMS to 08:00, suppresses the 4th email in 7 days', async () => {
    const { put, clock, stack } = ctx;
    const email = textFirstCustomer();
    const profileId = newProfileId('email', email);
    const identities = { email, phone: '+4915100000013' };
    // Monday 09:00: signs up (welcome) and leaves a cart (reminder an hour later); 22:00: asks for a quote.
    const attributes = { firstName: 'Gus' };
    await put('member.signed-up', { id: 'gov-signup', identities, attributes, properties: { plan: 'free' } });
    await put('cart.updated', {
      id: 'gov-cart',
      identities,
      properties: { action: 'item-added', cartId: 'gov-cart', productIds: ['sku-a'], cartUrl: 'https://shop.example/c/9', itemCount: 1 },
    });
    await clock.advanceTo('2026-12-07T22:00:00.000Z');
    await put('quote.requested', {
      id: 'gov-quote',
      identities,
      properties: { quoteId: 'quote-9', product: 'car insurance', premium: '31.50', quoteUrl: 'https://insure.example/q/9' },
    });
    await clock.advanceTo('2026-12-15T23:00:00.000Z');
    await clock.runUntilIdle();

    const runs = stack.executions.list({ profileId });
    expect(runs.map((r) => [r.journeyId, r.status]).sort()).toEqual([
      ['cart-abandonment', 'SUCCEEDED'],
      ['quote-follow-up', 'SUCCEEDED'],
      ['welcome', 'SUCCEEDED'],
    ]);
    const sent = stack.outbox.list({ profileId }).map((m) => [m.time, m.journeyId, m.nodeId, m.channel]);
    expect(sent).toEqual([
      ['2026-12-07T09:00:00.000Z', 'welcome', 'welcome-email', 'email'],
      ['2026-12-07T10:00:00.000Z', 'cart-abandonment', 'reminder-email', 'email'],
      ['2026-12-08T22:00:00.000Z', 'quote-follow-up', 'first-reminder-email', 'email'],
      // Day 3 of the quote is Thursday 22:00, within the SMS quiet hours: held until 08:00 (the 4th message this week).
      ['2026-12-11T08:00:00.000Z', 'quote-follow-up', 'sms-reminder', 'sms'],
      // 7 days after the welcome email to the millisecond, that email no longer counts: 2 in the window, sent.
      ['2026-12-14T09:00:00.000Z', 'welcome', 'member-offer-email', 'email'],
      // Day 7 counts from the SMS actually sent (Friday 08:00): the first-reminder and the member offer in 7 days.
      ['2026-12-15T08:00:00.000Z', 'quote-follow-up', 'last-reminder-email', 'email'],
    ]);

    // Every send step's ledger entry: the two Thursday emails are the 4th in 7 days.
    const sendsOf = (j: (typeof journeys)[number]) => j.journey.nodes.filter((n) => n.kind === 'send').map((n) => n.id);
    const sendNodes = new Map(journeys.map((j) => [j.journey.id, sendsOf(j)]));
    const entries = [];
    for (const run of runs) {
      for (const nodeId of sendNodes.get(run.journeyId)!) {
        const entry = await ledgerEntry(stack, run.executionArn, nodeId);
        if (entry) entries.push([entry.preparedAt, run.journeyId, nodeId, entry.status, entry.reason ?? null]);
      }
    }
    const capped = 'frequency-cap:marketing-email-weekly';
    expect(entries.filter((e) => e[3] !== 'sent').sort()).toEqual([
      ['2026-12-10T09:00:00.000Z', 'welcome', 'login-reminder-email', 'suppressed', capped],
      ['2026-12-10T10:00:00.000Z', 'cart-abandonment', 'last-chance-email', 'suppressed', capped],
    ]);
    expect(entries.filter((e) => e[3] === 'sent')).toHaveLength(sent.length);
  });
});
