import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import type { BusEvent } from '../../lambdas/local/bus';
import { AUDIENCE_SCAN } from '../../lambdas/local/stack';
import { call } from './http';
import { bodies, openVirtualStack, parkedStates } from './local-stack';

/**
 * The shipped playbooks through the whole local stack: events through PutEvents with the official SDK client, the REST
 * API over HTTP, profiles in dynalite, the compiled ASL on the Step Functions runner, on a virtual clock. Only what
 * needs the stack is here; each playbook's journey behaviour (paths, timing, content, suppression, decisions,
 * re-entry) is simulated branch by branch in test/simulate/<playbook>.test.ts.
 */
type Ctx = Awaited<ReturnType<typeof openVirtualStack>>;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();
const byEmail = (address: string) => newProfileId('email', address);
/** A marketing email's text ends with its one-click unsubscribe link on this stack's own address. */
const UNSUBSCRIBE_LINK = /\n\nUnsubscribe: http:\/\/127\.0\.0\.1:\d+\/unsubscribe\?token=[\w.-]+$/;
const ONE_CLICK = { 'List-Unsubscribe': expect.stringMatching(/^<http:\/\/127\.0\.0\.1:\d+\/unsubscribe\?token=[\w.-]+>$/), 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };

/** Opens a virtual stack for the enclosing block (file or describe) and closes it after. */
function withStack(options: Parameters<typeof openVirtualStack>[0] = {}): () => Ctx {
  let ctx: Ctx;
  beforeAll(async () => {
    ctx = await openVirtualStack(options);
  });
  afterAll(() => ctx.stack.stop());
  return () => ctx;
}

/**
 * One stack for the playbooks that need no hourly re-check (opening one takes a second or two): each describe has its
 * own customers, and reads times from the clock as it finds it. loyalty-tier has its own, with the re-check on.
 * These tests are about each playbook's own paths and timing, so the stack runs WITHOUT the shipped governance rules
 * (`rules: []`: e.g. quiet hours would hold an SMS the clock happens to reach at night); the playbooks under the
 * shipped rules are test/e2e/governed-playbooks.test.ts.
 */
const shared = withStack({ rules: [] });

describe('cart-abandonment playbook on the local stack', () => {
  const ctx = shared;
  const shopper = 'shopper@example.com';
  const cartAdded = (id: string, email = shopper) => ({
    id,
    identities: { email },
    attributes: { firstName: 'Sam', pushToken: 'device-sam' },
    properties: { action: 'item-added', cartId: `cart-${email}`, productIds: ['sku-a', 'sku-b'], cartUrl: 'https://shop.example/cart/1', itemCount: 2 },
  });

  it('reminds by email with one-click unsubscribe headers, pushes the offer on a price drop, and logs the decision', async () => {
    const { put, clock, stack } = ctx();
    await put('cart.updated', cartAdded('cart-1'));
    expect(await parkedStates(stack, 'cart-abandonment', byEmail(shopper))).toEqual(['wait-for-order']);
    expect((await call(stack, 'GET', `/profiles/${byEmail(shopper)}`)).body).toMatchObject({ attributes: { firstName: 'Sam' } });
    await clock.advance('1h');
    const [reminder] = stack.outbox.list({ profileId: byEmail(shopper) });
    expect(reminder).toMatchObject({ nodeId: 'reminder-email', recipient: shopper, journeyId: 'cart-abandonment', headers: ONE_CLICK });
    expect(reminder.body).toMatch(UNSUBSCRIBE_LINK);

    await clock.advance('1d');
    await put('price.dropped', { id: 'price-1', catalog: true, properties: { productId: 'sku-b', productName: 'Socks', price: '9.99' } }, 'test.catalog');
    expect(stack.executions.list({ journeyId: 'cart-abandonment', profileId: byEmail(shopper) }).map((r) => r.status)).toEqual(['SUCCEEDED']);
    expect(bodies(stack.outbox.list({ profileId: byEmail(shopper) }))).toEqual(['email:reminder-email', 'push:offer-push']);
    // The catalog event belongs to no customer: no profile was made for it.
    expect((await call(stack, 'GET', `/profiles/${newProfileId('crmId', 'catalog')}`)).status).toBe(404);
    const log = await call(stack, 'GET', `/profiles/${byEmail(shopper)}/decisions`);
    expect(log.body.decisions).toHaveLength(1);
    expect(log.body.decisions[0]).toMatchObject({
      origin: 'journey:cart-abandonment:pick-offer',
      placements: { push: { offers: [{ offerId: 'cart-discount' }], fallback: false } },
    });
  });

  it('processes the same event id once, however often the bus delivers it', async () => {
    const { put, clock, stack } = ctx();
    const again = 'again@example.com';
    await put('cart.updated', cartAdded('cart-again', again));
    await clock.advance('10m');
    await put('cart.updated', cartAdded('cart-again', again));
    expect(await parkedStates(stack, 'cart-abandonment', byEmail(again))).toEqual(['wait-for-order']);
    const runs = () => stack.executions.list({ journeyId: 'cart-abandonment', profileId: byEmail(again) }).map((r) => r.status);
    expect(runs()).toEqual(['RUNNING']);
    await put('order.placed', { id: 'order-again', identities: { email: again }, properties: { cartId: `cart-${again}` } });
    // Once the run has ended the profile may enter again: a redelivery still starts nothing, a new event does.
    await put('cart.updated', cartAdded('cart-again', again));
    expect(runs()).toEqual(['SUCCEEDED']);
    // (A minute on: an order at the very instant of a cart event counts as one after it.)
    await clock.advance('1m');
    await put('cart.updated', cartAdded('cart-again-2', again));
    expect(runs()).toEqual(['SUCCEEDED', 'RUNNING']);
  });
});

describe('cross-sell playbook on the local stack', () => {
  const ctx = shared;

  it('recommends roadside assistance two weeks after a car insurance order put through the bus', async () => {
    const { put, clock, stack } = ctx();
    const from = clock.nowMs();
    await put('order.placed', { id: 'order-car', identities: { email: 'buyer@example.com' }, properties: { orderId: 'car-1', productType: 'car-insurance' } });
    expect(await parkedStates(stack, 'cross-sell', byEmail('buyer@example.com'))).toEqual(['wait-14-days']);
    await clock.advance(14 * DAY);
    const [message] = stack.outbox.list({ profileId: byEmail('buyer@example.com') });
    expect(message).toMatchObject({ nodeId: 'roadside-email', time: iso(from + 14 * DAY), headers: ONE_CLICK });
    expect(message.body).toMatch(/^Breakdown cover for your policy car-1, from 4 a month\./);
    expect(message.body).toMatch(UNSUBSCRIBE_LINK);
  });

  it('keeps the profile of an order it does not enter', async () => {
    const { put, stack } = ctx();
    await put('order.placed', { id: 'order-shoes', identities: { email: 'shoes@example.com' }, properties: { orderId: 'shoes-1', productType: 'shoes' } });
    expect(stack.executions.list({ journeyId: 'cross-sell', profileId: byEmail('shoes@example.com') })).toEqual([]);
    expect(await stack.profiles.get(byEmail('shoes@example.com'))).toMatchObject({ identities: { email: 'shoes@example.com' } });
  });
});

describe('event-reminder playbook on the local stack', () => {
  const ctx = shared;

  it('keeps in the run the instants its until-waits resolved to, at local times in the guest zone', async () => {
    const { put, clock, stack } = ctx();
    // 16:00 UTC the day after tomorrow starts the event; Berlin is UTC+1 in December, so 10:00 there is 09:00 UTC.
    const today = clock.now();
    const day = (n: number, hour: number) => Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + n, hour);
    await put('event.registered', {
      id: 'registration-1',
      identities: { email: 'guest@example.com' },
      attributes: { timezone: 'Europe/Berlin' },
      properties: { eventName: 'Tasting night', startsAt: iso(day(2, 16)), endsAt: iso(day(2, 19)), url: 'https://shop.example/events/1' },
    });
    await clock.runUntilIdle();
    const [run] = stack.executions.list({ journeyId: 'event-reminder', profileId: byEmail('guest@example.com') });
    expect(run.status).toBe('SUCCEEDED');
    const steps = (run.output as { steps: Record<string, { until: string }> }).steps;
    expect([steps.day_before.until, steps.morning_of.until, steps.after_event.until]).toEqual([iso(day(1, 9)), iso(day(2, 7)), iso(day(2, 21))]);
    expect(run.stopDate).toBe(iso(day(2, 21)));
    expect(bodies(stack.outbox.list({ profileId: byEmail('guest@example.com') }))).toEqual(['email:reminder-email', 'email:offer-email', 'email:thank-you-email']);
  });
});

/** Records the platform's segment events as the bus delivers them. */
function segmentEvents(ctx: () => Ctx) {
  const seen: BusEvent[] = [];
  beforeAll(() => ctx().stack.bus.addRule({ name: 'test-segment-events', pattern: { source: ['waymark.segments'] }, target: async (event) => void seen.push(event) }));
  return (email: string) =>
    seen
      .filter((e) => (e.detail as { properties: { profileId: string } }).properties.profileId === byEmail(email))
      .map((e) => `${e['detail-type']}:${(e.detail as { properties: { segmentId: string } }).properties.segmentId}`);
}

describe('loyalty-tier playbook on the local stack', () => {
  // Starts at 09:00 UTC: the hourly re-checks run at 10:00, 11:00, ... and the first of the next day at 00:00.
  const ctx = withStack({ start: '2026-12-01T09:00:00.000Z', recheckIntervalMs: HOUR });
  const eventsOf = segmentEvents(ctx);
  const tierChanged = (email: string, tier: string, extra: Record<string, string> = {}) => ({
    id: `tier-${email}-${tier}-${ctx().clock.nowMs()}`,
    time: ctx().clock.now().toISOString(),
    identities: { email },
    attributes: { loyaltyTier: tier, ...extra },
  });
  const runsOf = (email: string) => ctx().stack.executions.list({ journeyId: 'loyalty-tier', profileId: byEmail(email) });

  it('announces the segments a tier change enters on the bus and shows them on the profile over HTTP', async () => {
    const { put, stack } = ctx();
    await put('loyalty.tier-changed', tierChanged('ada@example.com', 'gold', { firstName: 'Ada' }));
    expect(runsOf('ada@example.com').map((r) => r.status)).toEqual(['SUCCEEDED']);
    expect(bodies(stack.outbox.list({ profileId: byEmail('ada@example.com') }))).toEqual(['email:gold-offer']);
    expect(eventsOf('ada@example.com').sort()).toEqual(['SegmentEntered:loyalty-gold', 'SegmentEntered:loyalty-members']);
    const profile = await call(stack, 'GET', `/profiles/${byEmail('ada@example.com')}`);
    expect(Object.keys(profile.body.segments).sort()).toEqual(['loyalty-gold', 'loyalty-members']);
  });

  it('answers an attribute update over HTTP with the segments entered, and the journey starts', async () => {
    const { put, stack } = ctx();
    await put('page.viewed', { id: 'view-bo', identities: { email: 'bo@example.com' } });
    const reply = await call(stack, 'PUT', `/profiles/${byEmail('bo@example.com')}/attributes`, { attributes: { loyaltyTier: 'gold' } });
    expect(reply.status).toBe(200);
    expect(Object.keys(reply.body.segments).sort()).toEqual(['loyalty-gold', 'loyalty-members']);
    await stack.settle();
    expect(runsOf('bo@example.com').map((r) => r.status)).toEqual(['SUCCEEDED']);
    expect(bodies(stack.outbox.list({ profileId: byEmail('bo@example.com') }))).toEqual(['email:gold-offer']);
  });

  it('announces moves between tiers and out of the programme as segment exits and entries', async () => {
    const { put, clock } = ctx();
    // Spend makes a silver member; more spend within the week makes her gold, still a member.
    await put('order.placed', { id: 'order-cy-1', identities: { email: 'cy@example.com' }, properties: { orderId: 'cy-1', total: 400 } });
    expect(eventsOf('cy@example.com').sort()).toEqual(['SegmentEntered:loyalty-members', 'SegmentEntered:loyalty-silver']);
    await clock.advance('1d');
    await put('order.placed', { id: 'order-cy-2', identities: { email: 'cy@example.com' }, properties: { orderId: 'cy-2', total: 700 } });
    expect(eventsOf('cy@example.com')).toEqual(expect.arrayContaining(['SegmentExited:loyalty-silver', 'SegmentEntered:loyalty-gold']));
    expect(eventsOf('cy@example.com')).not.toContain('SegmentExited:loyalty-members');
    // Leaving the programme exits both segments and stops the run.
    await put('loyalty.tier-changed', tierChanged('dee@example.com', 'silver'));
    await clock.advance('1h');
    await put('loyalty.tier-changed', tierChanged('dee@example.com', 'none'));
    expect(eventsOf('dee@example.com')).toEqual(expect.arrayContaining(['SegmentExited:loyalty-silver', 'SegmentExited:loyalty-members']));
    expect(runsOf('dee@example.com').map((r) => r.status)).toEqual(['ABORTED']);
  });

  it('the hourly re-check finds the members whose anniversary has come, with no event, and enters them once', async () => {
    const { put, clock, stack } = ctx();
    const memberDayRuns = () => stack.executions.list({ journeyId: 'loyalty-member-day' });
    const lastRecheck = () => stack.executions.list({ journeyId: AUDIENCE_SCAN }).at(-1);
    // Clock at 2026-12-02T10:00Z after the tests above: the day after tomorrow (UTC) is the anniversary of members since 2019.
    const midnight = Date.UTC(2026, 11, 4);
    await put('loyalty.tier-changed', tierChanged('eda@example.com', 'gold', { memberSince: '2019-12-04' }));
    await put('loyalty.tier-changed', tierChanged('fay@example.com', 'silver', { memberSince: '2019-12-04' }));
    expect(memberDayRuns()).toEqual([]);
    // Every re-check of the days before finds nobody.
    await clock.advanceTo(midnight - 1);
    expect(lastRecheck()).toMatchObject({ status: 'SUCCEEDED', startDate: iso(midnight - HOUR) });
    expect(memberDayRuns()).toEqual([]);
    await clock.advance(1);
    expect(memberDayRuns().map((r) => [r.profileId, r.status, r.startDate]).sort()).toEqual(
      [[byEmail('eda@example.com'), 'SUCCEEDED', iso(midnight)], [byEmail('fay@example.com'), 'SUCCEEDED', iso(midnight)]].sort(),
    );
    expect(bodies(stack.outbox.list({ journeyId: 'loyalty-member-day', profileId: byEmail('eda@example.com') }))).toEqual(['email:thank-you']);
    expect(eventsOf('eda@example.com')).toContain('SegmentEntered:loyalty-member-day');
    // The next re-check the same day changes nothing: no second entry, no second announcement.
    await clock.advance(HOUR);
    expect(lastRecheck()).toMatchObject({ status: 'SUCCEEDED', startDate: iso(midnight + HOUR) });
    expect(memberDayRuns()).toHaveLength(2);
    expect(eventsOf('eda@example.com').filter((e) => e === 'SegmentEntered:loyalty-member-day')).toHaveLength(1);
  });
});

describe('manual-outreach playbook on the local stack', () => {
  const ctx = shared;
  /** Triggers the journey over HTTP and lets the stack settle (the run has ended or parked). */
  const trigger = async (body: unknown) => {
    const reply = await call(ctx().stack, 'POST', '/journeys/manual-outreach/trigger', body);
    await ctx().stack.settle();
    return reply;
  };
  const runsOf = (email: string) => ctx().stack.executions.list({ journeyId: 'manual-outreach', profileId: byEmail(email) });

  it('answers 202 with the run it started, creates the profile, and sends the free text with one-click unsubscribe', async () => {
    const reply = await trigger({ identities: { email: 'client@example.com' }, context: { subject: 'Your documents', text: 'They are ready to sign.' } });
    expect(reply.status).toBe(202);
    expect(reply.body).toMatchObject({ status: 'started', journeyId: 'manual-outreach' });
    const [run] = runsOf('client@example.com');
    expect([run.status, run.executionArn]).toEqual(['SUCCEEDED', reply.body.executionArn]);
    expect(await ctx().stack.profiles.get(byEmail('client@example.com'))).toMatchObject({ identities: { email: 'client@example.com' } });
    const [message] = ctx().stack.outbox.list({ profileId: byEmail('client@example.com') });
    expect(message).toMatchObject({ subject: 'Your documents', time: ctx().clock.now().toISOString(), headers: ONE_CLICK });
  });

  it('texts a known profile named by its profile id', async () => {
    await ctx().put('account.updated', { id: 'account-2', identities: { email: 'sms@example.com', phone: '+4917000000002' }, properties: {} });
    const reply = await trigger({ profileId: byEmail('sms@example.com'), context: { channel: 'sms', text: 'Your advisor will call at 3 pm.' } });
    expect(reply.status).toBe(202);
    expect(bodies(ctx().stack.outbox.list({ profileId: byEmail('sms@example.com') }))).toEqual(['sms:outreach-sms']);
  });

  it('answers a repeated idempotency key with the run it started, 200 already-started; without a key each call is a run', async () => {
    const request = { identities: { email: 'keyed@example.com' }, context: { text: 'Welcome aboard.' }, idempotencyKey: 'campaign-7:keyed' };
    const first = await trigger(request);
    const second = await trigger(request);
    expect([first.status, second.status]).toEqual([202, 200]);
    expect(second.body).toMatchObject({ status: 'already-started', executionArn: first.body.executionArn });
    expect(runsOf('keyed@example.com')).toHaveLength(1);
    const { idempotencyKey: _key, ...unkeyed } = request;
    expect([(await trigger(unkeyed)).status, (await trigger(unkeyed)).status]).toEqual([202, 202]);
    expect(runsOf('keyed@example.com').map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(ctx().stack.outbox.list({ profileId: byEmail('keyed@example.com') })).toHaveLength(3);
  });
});

describe('next-best-offer playbook on the local stack', () => {
  const ctx = shared;

  it('emails the decided offer two hours after a view and logs the decision, with its explanation, on the profile', async () => {
    const { put, clock, stack } = ctx();
    const browser = byEmail('browser@example.com');
    await put('product.viewed', {
      id: 'view-1',
      time: clock.now().toISOString(),
      identities: { email: 'browser@example.com' },
      properties: { category: 'jacket', productName: 'Rain jacket', productUrl: 'https://shop.example/p/1', price: 899 },
    });
    expect(await parkedStates(stack, 'next-best-offer', browser)).toEqual(['wait-for-order']);
    await clock.advance(2 * HOUR);
    const [message] = stack.outbox.list({ profileId: browser });
    expect(message).toMatchObject({ nodeId: 'offer-email', subject: 'Free shipping, this week only', headers: ONE_CLICK });
    const log = await call(stack, 'GET', `/profiles/${browser}/decisions`);
    expect(log.body.decisions).toHaveLength(1);
    expect(log.body.decisions[0]).toMatchObject({ origin: 'journey:next-best-offer:pick-email-offer', placements: { 'email-hero': { offers: [{ offerId: 'free-shipping' }] } } });
    const lines = new Map(log.body.decisions[0].placements['email-hero'].explanation.map((l: { offerId: string }) => [l.offerId, l]));
    expect(lines.get('free-shipping')).toMatchObject({ eligible: true, chosen: true, score: 40 });
    expect(lines.get('gold-double-points')).toMatchObject({ eligible: false, reason: 'not in segment "loyalty-gold"' });
  });
});

describe('quote-follow-up playbook on the local stack', () => {
  const ctx = shared;

  it('emails on day 1, texts on day 3 and emails on day 7, the emails with their unsubscribe link and headers', async () => {
    const { put, clock, stack } = ctx();
    const from = clock.nowMs();
    await put('quote.requested', {
      id: 'quote-request-1',
      identities: { email: 'customer@example.com', phone: '+4915100000003' },
      attributes: { firstName: 'Cleo' },
      properties: { quoteId: 'quote-1', product: 'car insurance', premium: '31.50', quoteUrl: 'https://insure.example/quotes/1' },
    });
    expect(await parkedStates(stack, 'quote-follow-up', byEmail('customer@example.com'))).toEqual(['wait-day-1']);
    await clock.runUntilIdle();
    const [run] = stack.executions.list({ journeyId: 'quote-follow-up', profileId: byEmail('customer@example.com') });
    expect([run.status, run.stopDate]).toEqual(['SUCCEEDED', iso(from + 7 * DAY)]);
    const messages = stack.outbox.list({ profileId: byEmail('customer@example.com') });
    expect(messages.map((m) => [m.channel, m.nodeId, m.recipient, m.time])).toEqual([
      ['email', 'first-reminder-email', 'customer@example.com', iso(from + DAY)],
      ['sms', 'sms-reminder', '+4915100000003', iso(from + 3 * DAY)],
      ['email', 'last-reminder-email', 'customer@example.com', iso(from + 7 * DAY)],
    ]);
    expect(messages[0].body).toMatch(/^Hi Cleo, your quote quote-1 is ready: https:\/\/insure\.example\/quotes\/1\n\nUnsubscribe: http:\/\/127\.0\.0\.1:\d+\/unsubscribe\?token=[\w.-]+$/);
    expect(messages[0].headers).toMatchObject(ONE_CLICK);
  });
});

describe('welcome playbook on the local stack', () => {
  const ctx = shared;
  const signedUp = (email: string, id: string) => ({ id, identities: { email }, attributes: { firstName: 'Mira' }, properties: { plan: 'free' } });

  it('keeps ids and outcomes in the run data, never the address, name, device or rendered mail', async () => {
    const { put, clock, stack } = ctx();
    await put('member.signed-up', signedUp('mira@example.com', 'signup-mira'));
    await clock.advance('1d');
    await put('app.logged-in', { id: 'login-mira', identities: { email: 'mira@example.com' }, attributes: { pushToken: 'device-mira' }, properties: {} });
    await put('order.placed', { id: 'order-mira', identities: { email: 'mira@example.com' }, properties: { orderId: 'order-mira', total: 42 } });
    const [run] = stack.executions.list({ journeyId: 'welcome', profileId: byEmail('mira@example.com') });
    expect(run.status).toBe('SUCCEEDED');
    expect(bodies(stack.outbox.list({ profileId: byEmail('mira@example.com') }))).toEqual(['email:welcome-email', 'push:onboarding-push']);
    const data = JSON.stringify(run.output);
    for (const personal of ['mira@example.com', 'Mira', '<h1>', 'device-mira']) expect(data).not.toContain(personal);
    expect(run.output).toMatchObject({ steps: { welcome_email: { deliver: true, status: 'sent' } } });
  });

  it('enters a member once when several sign-up events arrive in one PutEvents call and are routed concurrently', async () => {
    const { stack } = ctx();
    const client = new EventBridgeClient({ endpoint: stack.url, region: 'local', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const members = ['m11@example.com', 'm12@example.com', 'm13@example.com'];
    const entries = members.flatMap((email) =>
      ['a', 'b', 'c'].map((k) => ({ Source: 'test.shop', DetailType: 'member.signed-up', Detail: JSON.stringify(signedUp(email, `signup-${email}-${k}`)), EventBusName: 'waymark-local' })),
    );
    const out = await client.send(new PutEventsCommand({ Entries: entries })).finally(() => client.destroy());
    expect(out.FailedEntryCount).toBe(0);
    for (const email of members) expect(await parkedStates(stack, 'welcome', byEmail(email))).toEqual(['wait-for-login']);
    expect(stack.bus.deadLetters).toEqual([]);
    for (const email of members) {
      expect(stack.executions.list({ journeyId: 'welcome', profileId: byEmail(email) })).toHaveLength(1);
      expect(bodies(stack.outbox.list({ profileId: byEmail(email) }))).toEqual(['email:welcome-email']);
    }
  });
});
