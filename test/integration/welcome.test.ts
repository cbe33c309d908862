import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import { bodies, finished, openStack, waitingAt } from './local-stack';

const member = (n: number) => ({ email: `member${n}@example.com` });
const profileOf = (n: number) => newProfileId('email', `member${n}@example.com`);
const signedUp = (n: number, id = `signup-${n}`) => ({ id, identities: member(n), attributes: { firstName: `Member${n}` }, properties: { plan: 'free' } });
// The app registers its device on login: the push token arrives with the login event.
const loggedIn = (n: number) => ({ id: `login-${n}`, identities: member(n), attributes: { pushToken: `device-${n}` }, properties: {} });
const orderPlaced = (n: number) => ({ id: `order-${n}`, identities: member(n), properties: { orderId: `order-${n}`, total: 42 } });

describe('welcome playbook (event-driven branches, 1 virtual hour = 1 s)', () => {
  let ctx: Awaited<ReturnType<typeof openStack>>;
  beforeAll(async () => {
    ctx = await openStack(3600);
  });
  afterAll(() => ctx.stack.stop());

  it('welcomes at once, sends the onboarding push on the first login and nothing more once the first order follows', async () => {
    await ctx.put('member.signed-up', signedUp(1));
    await waitingAt(ctx.stack, 'welcome', profileOf(1), 'wait-for-login');
    const [welcome] = ctx.stack.outbox.list({ profileId: profileOf(1) });
    expect(welcome).toMatchObject({ channel: 'email', nodeId: 'welcome-email', recipient: 'member1@example.com', subject: 'Welcome to the club, Member1' });
    expect(welcome.html).toContain('<h1>Welcome, Member1!</h1>');

    // Another member's login resumes nothing: the wait is keyed by profile.
    await ctx.put('app.logged-in', { ...loggedIn(99), identities: member(99) });
    await waitingAt(ctx.stack, 'welcome', profileOf(1), 'wait-for-login');

    await ctx.put('app.logged-in', loggedIn(1));
    await waitingAt(ctx.stack, 'welcome', profileOf(1), 'wait-for-first-order');
    await ctx.put('order.placed', orderPlaced(1));
    const [run] = await finished(ctx.stack, 'welcome', profileOf(1));

    expect(run.status).toBe('SUCCEEDED');
    expect(run.path.at(-1)).toBe('converted');
    expect(run.path).not.toContain('login-reminder-email');
    expect(run.path).not.toContain('member-offer-email');
    const messages = ctx.stack.outbox.list({ profileId: profileOf(1) });
    expect(bodies(messages)).toEqual(['email:welcome-email', 'push:onboarding-push']);
    expect(messages[1]).toMatchObject({ recipient: 'device-1', subject: "You're in!", url: 'app://onboarding' });
    // The run's data (kept in the execution history) holds ids and outcomes, not the address, name or rendered mail.
    const data = JSON.stringify(run.output);
    for (const personal of ['member1@example.com', 'Member1', '<h1>', 'device-1']) expect(data).not.toContain(personal);
    expect(run.output).toMatchObject({ steps: { welcome_email: { deliver: true, status: 'sent' } } });
  });

  it('never enters a member twice, neither while the first run is active nor after it ended', async () => {
    await ctx.put('member.signed-up', signedUp(2));
    await waitingAt(ctx.stack, 'welcome', profileOf(2), 'wait-for-login');
    await ctx.put('member.signed-up', signedUp(2, 'signup-2-again'));
    expect(ctx.stack.executions.list({ journeyId: 'welcome', profileId: profileOf(2) })).toHaveLength(1);

    await ctx.put('app.logged-in', loggedIn(2));
    await waitingAt(ctx.stack, 'welcome', profileOf(2), 'wait-for-first-order');
    await ctx.put('order.placed', orderPlaced(2));
    await finished(ctx.stack, 'welcome', profileOf(2));
    // Without `reentry: never` an ended run would let the profile in again.
    await ctx.put('member.signed-up', signedUp(2, 'signup-2-third'));

    expect(ctx.stack.executions.list({ journeyId: 'welcome', profileId: profileOf(2) })).toHaveLength(1);
    expect(bodies(ctx.stack.outbox.list({ profileId: profileOf(2) }))).toEqual(['email:welcome-email', 'push:onboarding-push']);
  });
  it('enters a member once when several sign-up events arrive together and are routed concurrently', async () => {
    const client = new EventBridgeClient({ endpoint: ctx.stack.url, region: 'local', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const members = [11, 12, 13];
    const entries = members.flatMap((n) =>
      ['a', 'b', 'c'].map((k) => ({ Source: 'test.shop', DetailType: 'member.signed-up', Detail: JSON.stringify(signedUp(n, `signup-${n}-${k}`)), EventBusName: 'waymark-local' })),
    );
    const out = await client.send(new PutEventsCommand({ Entries: entries }));
    expect(out.FailedEntryCount).toBe(0);
    for (const n of members) await waitingAt(ctx.stack, 'welcome', profileOf(n), 'wait-for-login');

    expect(ctx.stack.bus.deadLetters).toEqual([]);
    for (const n of members) {
      expect(ctx.stack.executions.list({ journeyId: 'welcome', profileId: profileOf(n) })).toHaveLength(1);
      expect(bodies(ctx.stack.outbox.list({ profileId: profileOf(n) }))).toEqual(['email:welcome-email']);
    }
  });
});

describe('welcome playbook (login, then no order: 1 virtual day = 0.86 s)', () => {
  let ctx: Awaited<ReturnType<typeof openStack>>;
  beforeAll(async () => {
    ctx = await openStack(100_000);
  });
  afterAll(() => ctx.stack.stop());

  it('sends the member offer after the onboarding push when no order follows within the week', async () => {
    await ctx.put('member.signed-up', signedUp(3));
    await waitingAt(ctx.stack, 'welcome', profileOf(3), 'wait-for-login');
    await ctx.put('app.logged-in', loggedIn(3));
    const [run] = await finished(ctx.stack, 'welcome', profileOf(3));

    expect(run.status).toBe('SUCCEEDED');
    expect(run.path.at(-1)).toBe('done');
    const messages = ctx.stack.outbox.list({ profileId: profileOf(3) });
    expect(bodies(messages)).toEqual(['email:welcome-email', 'push:onboarding-push', 'email:member-offer-email']);
    expect(messages[2]).toMatchObject({ recipient: 'member3@example.com', subject: 'A member-only offer for you' });
  });
});

describe('welcome playbook (no login at all: 1 virtual day = 86 ms)', () => {
  let ctx: Awaited<ReturnType<typeof openStack>>;
  beforeAll(async () => {
    ctx = await openStack(1_000_000);
  });
  afterAll(() => ctx.stack.stop());

  it('reminds the member to log in after three days without a login, then sends the member offer', async () => {
    await ctx.put('member.signed-up', signedUp(4));
    const [run] = await finished(ctx.stack, 'welcome', profileOf(4));

    expect(run.status).toBe('SUCCEEDED');
    expect(run.path).not.toContain('onboarding-push');
    expect(run.path.at(-1)).toBe('done');
    const messages = ctx.stack.outbox.list({ profileId: profileOf(4) });
    expect(bodies(messages)).toEqual(['email:welcome-email', 'email:login-reminder-email', 'email:member-offer-email']);
    expect(messages[1]).toMatchObject({ recipient: 'member4@example.com', subject: 'Your membership is waiting' });
  });
});
