import { join } from 'node:path';
import { buildCatalog } from '../../lambdas/core/journey/catalog';
import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import { loadJourneyDir } from '../../lambdas/local/stack';
import { consentOf, ledgerEntry, request, setConsent, skipReason } from './consent-support';
import { bodies, openVirtualStack, parkedStates } from './local-stack';

const shopper = (n: number) => `consent${n}@example.com`;
const profileOf = (n: number) => newProfileId('email', shopper(n));
const cartAdded = (n: number, extra: Record<string, unknown> = {}) => ({
  id: `consent-cart-${n}`,
  identities: { email: shopper(n) },
  attributes: { firstName: `Shopper${n}`, pushToken: `device-c${n}`, phone: `+49170000100${n}` },
  properties: { action: 'item-added', cartId: `consent-cart-${n}`, productIds: [`sku-c${n}`], cartUrl: `https://shop.example/cart/c${n}`, itemCount: 1 },
  ...extra,
});
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** The virtual time a run entered a state (its first entry). */
const enteredAt = (run: { trail: { state: string; at: string }[] }, state: string) => run.trail.find((s) => s.state === state)?.at;
const iso = (ms: number) => new Date(ms).toISOString();

describe('consent in the journey runtime', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    ctx = await openVirtualStack();
  });
  afterAll(() => ctx.stack.stop());

  it('sends no cart reminder to a profile that opted out of email (through the API), but still the offer push', async () => {
    await ctx.put('account.updated', { id: 'consent-account-1', identities: { email: shopper(1) }, attributes: { pushToken: 'device-c1' } });
    await setConsent(ctx.stack, profileOf(1), { email: 'opted-out' });
    const from = ctx.clock.nowMs();
    await ctx.put('cart.updated', cartAdded(1));
    // The reminder's turn comes when the 1-hour wait for an order times out, not a minute before.
    await ctx.clock.advance(59 * MINUTE);
    expect(await parkedStates(ctx.stack, 'cart-abandonment', profileOf(1))).toEqual(['wait-for-order']);
    await ctx.clock.advance(MINUTE);
    expect(await parkedStates(ctx.stack, 'cart-abandonment', profileOf(1))).toEqual(['wait-for-offer-signal']);
    await ctx.put('price.dropped', { id: 'consent-price-1', catalog: true, properties: { productId: 'sku-c1', productName: 'Scarf', price: '19.00' } }, 'test.catalog');
    const [run] = ctx.stack.executions.list({ journeyId: 'cart-abandonment', profileId: profileOf(1) });
    expect(run.status).toBe('SUCCEEDED');
    expect(enteredAt(run, 'reminder-email.route')).toBe(iso(from + HOUR));

    expect(bodies(ctx.stack.outbox.list({ profileId: profileOf(1) }))).toEqual(['push:offer-push']);
    expect(run.path).toContain('reminder-email.route');
    expect(run.path).not.toContain('reminder-email.deliver');
    expect(skipReason(run, 'reminder_email')).toBe('consent:email');
    expect(await ledgerEntry(ctx.stack, run.executionArn, 'reminder-email')).toMatchObject({ status: 'suppressed', reason: 'consent:email' });
  });

  it('reads and updates consent per channel and list through the API, with time and source', async () => {
    await ctx.put('account.updated', { id: 'consent-account-2', identities: { email: shopper(2) } });
    expect(await consentOf(ctx.stack, profileOf(2))).toEqual({});
    const reply = await request(ctx.stack, 'PUT', `/profiles/${profileOf(2)}/consent`, { body: { sms: 'opted-out', 'list:news': 'opted-in' } });
    expect(reply.status).toBe(200);
    expect(reply.body.consent).toEqual({ sms: { status: 'opted-out', at: expect.any(String), source: 'api', via: 'api' }, 'list:news': { status: 'opted-in', at: expect.any(String), source: 'api', via: 'api' } });
    expect(reply.body.history.sms).toEqual([{ status: 'opted-out', at: reply.body.consent.sms.at, source: 'api', via: 'api', recordedAt: expect.any(String) }]);
    expect(await consentOf(ctx.stack, profileOf(2))).toEqual(reply.body.consent);
  });

  it('answers 409 naming the key, with the reason, for an API change that a later decision outranks', async () => {
    // An opt-out carried by an event dated 4 minutes ahead (within the clock-skew bound) is later than a change made now.
    const ahead = iso(ctx.clock.nowMs() + 4 * MINUTE);
    await ctx.put('account.updated', { id: 'consent-account-8', time: ahead, identities: { email: shopper(8) }, consent: { email: 'opted-out' } });
    const reply = await request(ctx.stack, 'PUT', `/profiles/${profileOf(8)}/consent`, { body: { email: 'opted-in', sms: 'opted-in' } });
    expect([reply.status, reply.contentType]).toEqual([409, 'application/problem+json']);
    expect(reply.body.errors).toEqual([{ field: 'email', message: expect.stringContaining('an opt-out (event, source test.shop') }]);
    expect(reply.body.changes).toEqual({
      email: { requested: 'opted-in', status: 'opted-out', applied: false, reason: expect.any(String) },
      sms: { requested: 'opted-in', status: 'opted-in', applied: true },
    });
    expect((await consentOf(ctx.stack, profileOf(8))).email).toMatchObject({ status: 'opted-out', via: 'event' });
  });

  it.each([
    ['an unknown channel', { fax: 'opted-out' }, 'fax'],
    ['an unknown status', { email: 'unsubscribed' }, 'email'],
    ['a malformed list', { 'list:': 'opted-in' }, 'list:'],
    ['a body that is not JSON', '{"email": ', '(body)'],
  ])('refuses %s as 400 problem+json naming the field, changing nothing', async (_name, body, field) => {
    await ctx.put('account.updated', { id: 'consent-account-3', identities: { email: shopper(3) } });
    const reply = await request(ctx.stack, 'PUT', `/profiles/${profileOf(3)}/consent`, { body });
    expect(reply.status).toBe(400);
    expect(reply.contentType).toBe('application/problem+json');
    expect(reply.body.errors.map((e: { field: string }) => e.field)).toEqual([field]);
    expect(await consentOf(ctx.stack, profileOf(3))).toEqual({});
  });

  it('answers 404 for the consent of an unknown profile', async () => {
    const unknown = newProfileId('email', 'nobody@example.com');
    expect((await request(ctx.stack, 'GET', `/profiles/${unknown}/consent`)).status).toBe(404);
    expect((await request(ctx.stack, 'PUT', `/profiles/${unknown}/consent`, { body: { email: 'opted-out' } })).status).toBe(404);
  });
});

/** A journey whose email belongs to the `news` list, followed by an SMS of no list. */
const digest = buildCatalog([
  {
    path: 'digest.json',
    text: JSON.stringify({
      schemaVersion: 1,
      id: 'digest',
      name: 'Digest',
      entry: { kind: 'event', event: 'digest.ready' },
      settings: { reentry: 'always', messageClass: 'marketing' },
      start: 'digest-email',
      nodes: [
        { id: 'digest-email', kind: 'send', channel: 'email', list: 'news', template: { subject: 'This week', text: 'News. Leave the list: {{ unsubscribeUrl }}' }, next: 'digest-sms' },
        { id: 'digest-sms', kind: 'send', channel: 'sms', template: { body: 'This week: news' }, next: 'done' },
        { id: 'done', kind: 'exit' },
      ],
    }),
  },
]).journeys;

describe('consent in the journey runtime: whole runs, list messages and API triggers', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    ctx = await openVirtualStack({ journeys: [...loadJourneyDir(join(__dirname, '..', '..', 'statemachines')), ...digest] });
  });
  afterAll(() => ctx.stack.stop());

  it('sends neither the reminder nor the last-chance email to a profile whose event opted it out of email, recording why', async () => {
    const from = ctx.clock.nowMs();
    await ctx.put('cart.updated', cartAdded(4, { consent: { email: 'opted-out' } }));
    // The wait for an order times out after 1 hour, the wait for an offer signal 3 days later: then the run ends.
    await ctx.clock.advance(HOUR + 3 * DAY);
    const [run] = ctx.stack.executions.list({ journeyId: 'cart-abandonment', profileId: profileOf(4) });

    expect(run.status).toBe('SUCCEEDED');
    expect(enteredAt(run, 'reminder-email.route')).toBe(iso(from + HOUR));
    expect(enteredAt(run, 'last-chance-email.route')).toBe(iso(from + HOUR + 3 * DAY));
    expect(run.path.filter((s) => s.endsWith('.deliver'))).toEqual([]);
    expect(ctx.stack.outbox.list({ profileId: profileOf(4) })).toEqual([]);
    expect([skipReason(run, 'reminder_email'), skipReason(run, 'last_chance_email')]).toEqual(['consent:email', 'consent:email']);
    expect(await ledgerEntry(ctx.stack, run.executionArn, 'last-chance-email')).toMatchObject({ status: 'suppressed', reason: 'consent:email' });
    expect((await consentOf(ctx.stack, profileOf(4))).email).toMatchObject({ status: 'opted-out', source: 'test.shop' });
  });

  it('sends no manual-outreach email (free text from the API is marketing) to a profile that opted out of email', async () => {
    await ctx.put('account.updated', { id: 'consent-account-5', identities: { email: shopper(5) }, consent: { email: 'opted-out' } });
    const reply = await request(ctx.stack, 'POST', '/journeys/manual-outreach/trigger', { body: { profileId: profileOf(5), context: { subject: 'Our offers', text: 'Buy now.' } } });
    expect(reply.status).toBe(202);
    await ctx.stack.settle();
    const [run] = ctx.stack.executions.list({ journeyId: 'manual-outreach', profileId: profileOf(5) });
    expect(run.status).toBe('SUCCEEDED');
    expect(skipReason(run, 'outreach_email')).toBe('consent:email');
    expect(ctx.stack.outbox.list({ profileId: profileOf(5) })).toEqual([]);
  });

  it('skips a list email for a profile that left the list, and still sends its other messages', async () => {
    await ctx.put('account.updated', { id: 'consent-account-6', identities: { email: shopper(6), phone: '+491700001006' }, consent: { 'list:news': 'opted-out' } });
    await ctx.put('digest.ready', { id: 'digest-6', identities: { email: shopper(6) } });
    await ctx.put('account.updated', { id: 'consent-account-7', identities: { email: shopper(7), phone: '+491700001007' } });
    await ctx.put('digest.ready', { id: 'digest-7', identities: { email: shopper(7) } });
    // The digest has no wait: every run has ended once the events have settled.
    const runs = ctx.stack.executions.list({ journeyId: 'digest' });
    expect(runs.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);

    expect(bodies(ctx.stack.outbox.list({ profileId: profileOf(6) }))).toEqual(['sms:digest-sms']);
    expect(skipReason(runs.find((r) => r.profileId === profileOf(6))!, 'digest_email')).toBe('consent:list:news');
    const [delivered] = ctx.stack.outbox.list({ profileId: profileOf(7), channel: 'email' });
    // The link of a list message leaves the list, and the template can show it.
    expect(delivered.body).toBe(`News. Leave the list: ${delivered.headers?.['List-Unsubscribe'].slice(1, -1)}`);
  });
});
