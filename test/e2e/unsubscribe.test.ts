import { signUnsubscribeToken } from '../../lambdas/core/consent/token';
import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import { LOCAL_UNSUBSCRIBE_SECRET } from '../../lambdas/local/stack';
import { consentOf, request, skipReason } from './consent-support';
import { openVirtualStack } from './local-stack';

const shopper = (n: number) => `unsub${n}@example.com`;
const profileOf = (n: number) => newProfileId('email', shopper(n));
const cartAdded = (n: number) => ({
  id: `unsub-cart-${n}`,
  identities: { email: shopper(n) },
  properties: { action: 'item-added', cartId: `unsub-cart-${n}`, productIds: [`sku-u${n}`], cartUrl: `https://shop.example/cart/u${n}`, itemCount: 1 },
});

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('one-click unsubscribe', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    ctx = await openVirtualStack();
  });
  afterAll(() => ctx.stack.stop());
  const runOf = (journeyId: string, n: number) => ctx.stack.executions.list({ journeyId, profileId: profileOf(n) })[0];

  /** The cart reminder goes out when the 1-hour wait for an order times out: its link is the profile's first email's. */
  const cartReminderLink = async (n: number) => {
    await ctx.put('cart.updated', cartAdded(n));
    await ctx.clock.advance(HOUR);
    return linkOf(n);
  };

  /** The link of the profile's first captured email, from its List-Unsubscribe header. */
  const linkOf = async (n: number) => {
    const [message] = ctx.stack.outbox.list({ profileId: profileOf(n), channel: 'email' });
    expect(message).toMatchObject({ nodeId: 'reminder-email' });
    expect(message.headers?.['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    const url = /^<(.+)>$/.exec(message.headers?.['List-Unsubscribe'] ?? '')?.[1];
    expect(url).toMatch(new RegExp(`^${ctx.stack.url}/unsubscribe\\?token=[A-Za-z0-9_.-]+$`));
    return url!;
  };

  it('takes the link of a captured marketing email, and after the one-click POST sends that profile no more marketing email', async () => {
    const url = await cartReminderLink(1);
    const reply = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(reply.status).toBe(200);
    expect(await reply.text()).toContain('no more marketing email');
    expect((await consentOf(ctx.stack, profileOf(1))).email).toMatchObject({ status: 'opted-out', source: 'unsubscribe-link' });

    // The same run's last-chance email three days later, and a journey started afterwards: both suppressed.
    await ctx.clock.advance(3 * DAY);
    const cartRun = runOf('cart-abandonment', 1);
    expect(cartRun.status).toBe('SUCCEEDED');
    expect(skipReason(cartRun, 'last_chance_email')).toBe('consent:email');
    await ctx.put('member.signed-up', { id: 'unsub-signup-1', identities: { email: shopper(1) } });
    // The welcome series ends when its waits time out (3 + 4 days).
    await ctx.clock.runUntilIdle();
    const welcomeRun = runOf('welcome', 1);
    expect(welcomeRun.status).toBe('SUCCEEDED');
    expect(skipReason(welcomeRun, 'welcome_email')).toBe('consent:email');
    expect(ctx.stack.outbox.list({ profileId: profileOf(1) }).map((m) => m.nodeId)).toEqual(['reminder-email']);
  });

  it('shows a confirmation on GET and changes nothing until the POST', async () => {
    const url = await cartReminderLink(2);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('<form method="post"');
    const asJson = await request(ctx.stack, 'GET', url.slice(ctx.stack.url.length), { headers: { accept: 'application/json' } });
    expect(asJson.body).toMatchObject({ status: 'confirm', scope: 'email' });
    expect(await consentOf(ctx.stack, profileOf(2))).toEqual({});
    await ctx.clock.runUntilIdle();
    expect(runOf('cart-abandonment', 2).status).toBe('SUCCEEDED');
  });

  it('refuses a tampered, expired, malformed or missing token with 400 naming the token, and changes nothing', async () => {
    const url = await cartReminderLink(3);
    const token = new URL(url).searchParams.get('token')!;
    const [payload, signature] = token.split('.');
    // Another profile's payload under this token's signature; this payload with the signature cut short.
    // Expiry is judged by the stack's (virtual) clock.
    const otherPayload = signUnsubscribeToken({ profileId: profileOf(4), scope: 'email', expiresAt: new Date(ctx.clock.nowMs() + DAY) }, 'not-the-local-secret-at-all').split('.')[0];
    const expired = signUnsubscribeToken({ profileId: profileOf(3), scope: 'email', expiresAt: new Date(ctx.clock.nowMs() - 1000) }, LOCAL_UNSUBSCRIBE_SECRET);
    await ctx.put('account.updated', { id: 'unsub-account-4', identities: { email: shopper(4) } });

    for (const [method, query] of [
      ['POST', `?token=${otherPayload}.${signature}`],
      ['POST', `?token=${payload}.${signature.slice(0, -2)}`],
      ['POST', `?token=${expired}`],
      ['POST', '?token=not-a-token'],
      ['POST', ''],
      ['GET', `?token=${otherPayload}.${signature}`],
    ]) {
      const reply = await request(ctx.stack, method, `/unsubscribe${query}`);
      expect([method, query, reply.status, reply.contentType]).toEqual([method, query, 400, 'application/problem+json']);
      expect(reply.body.errors.map((e: { field: string }) => e.field)).toEqual(['token']);
    }
    expect(await consentOf(ctx.stack, profileOf(3))).toEqual({});
    expect(await consentOf(ctx.stack, profileOf(4))).toEqual({});
    const lastChanceAt = ctx.clock.nowMs() + 3 * DAY;
    await ctx.clock.advance(3 * DAY);
    expect(runOf('cart-abandonment', 3).status).toBe('SUCCEEDED');
    const messages = ctx.stack.outbox.list({ profileId: profileOf(3) });
    expect(messages.map((m) => m.nodeId)).toEqual(['reminder-email', 'last-chance-email']);
    expect(messages[1].time).toBe(new Date(lastChanceAt).toISOString());
  });

  it('keeps an unsubscribe over event-borne opt-ins dated later, rejects far-future times with the reason, and exports the history', async () => {
    const url = await cartReminderLink(5);
    const reply = await request(ctx.stack, 'POST', url.slice(ctx.stack.url.length), { headers: { accept: 'application/json' } });
    expect([reply.status, reply.body]).toEqual([200, { status: 'unsubscribed', scope: 'email' }]);

    // A sign-up dated 4 minutes ahead (within the clock-skew bound) carrying an opt-in: recorded, not in force.
    const ahead = new Date(ctx.clock.nowMs() + 4 * MINUTE).toISOString();
    await ctx.put('member.signed-up', { id: 'unsub-optin-5', time: ahead, identities: { email: shopper(5) }, consent: { email: 'opted-in' } });
    // Dated 2999: rejected on the bus with the reason, and refused over the API.
    await ctx.put('member.signed-up', { id: 'unsub-future-5', time: '2999-01-01T00:00:00Z', identities: { email: shopper(5) }, consent: { email: 'opted-in' } });
    const rejected = await request(ctx.stack, 'GET', '/events/rejected');
    const kept = rejected.body.events.find((e: { raw: { detail: { id?: string } } }) => e.raw.detail?.id === 'unsub-future-5');
    expect(kept?.errors).toEqual([{ field: 'detail.time', message: expect.stringContaining('more than 5 minutes after its receipt') }]);
    for (const time of ['2999-01-01T00:00:00Z', '1970-01-01T00:00:00Z']) {
      const posted = await request(ctx.stack, 'POST', '/events', { body: { type: 'member.signed-up', time, identities: { email: shopper(5) }, consent: { email: 'opted-in' } } });
      expect([posted.status, posted.body.errors?.map((e: { field: string }) => e.field)]).toEqual([400, ['time']]);
    }

    expect((await consentOf(ctx.stack, profileOf(5))).email).toMatchObject({ status: 'opted-out', source: 'unsubscribe-link', via: 'unsubscribe-link' });
    await ctx.clock.runUntilIdle();
    const welcomeRun = runOf('welcome', 5);
    expect(welcomeRun.status).toBe('SUCCEEDED');
    expect(skipReason(welcomeRun, 'welcome_email')).toBe('consent:email');

    const exported = await request(ctx.stack, 'GET', `/profiles/${profileOf(5)}/export`);
    expect(exported.body.profile.consent.email.history.map((c: { via: string; status: string; eventId?: string }) => [c.via, c.status, c.eventId])).toEqual([
      ['event', 'opted-in', 'unsub-optin-5'],
      ['unsubscribe-link', 'opted-out', undefined],
    ]);

    // The person re-subscribes through the API: allowed, and said so.
    const resubscribed = await request(ctx.stack, 'PUT', `/profiles/${profileOf(5)}/consent`, { body: { email: 'opted-in' } });
    expect([resubscribed.status, resubscribed.body.changes]).toEqual([200, { email: { requested: 'opted-in', status: 'opted-in', applied: true } }]);
  });
});
