import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import { bodies, openVirtualStack, parkedStates } from './local-stack';

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

const member = (n: number) => ({ email: `member${n}@example.com` });
const profileOf = (n: number) => newProfileId('email', `member${n}@example.com`);
const signedUp = (n: number, id = `signup-${n}`) => ({ id, identities: member(n), attributes: { firstName: `Member${n}` }, properties: { plan: 'free' } });
// The app registers its device on login: the push token arrives with the login event.
const loggedIn = (n: number) => ({ id: `login-${n}`, identities: member(n), attributes: { pushToken: `device-${n}` }, properties: {} });
const orderPlaced = (n: number) => ({ id: `order-${n}`, identities: member(n), properties: { orderId: `order-${n}`, total: 42 } });

describe('welcome playbook (event-driven branches)', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    ctx = await openVirtualStack();
  });
  afterAll(() => ctx.stack.stop());

  const runsOf = (n: number) => ctx.stack.executions.list({ journeyId: 'welcome', profileId: profileOf(n) });

  it('welcomes at once, sends the onboarding push on the first login and nothing more once the first order follows', async () => {
    const from = ctx.clock.nowMs();
    await ctx.put('member.signed-up', signedUp(1));
    expect(await parkedStates(ctx.stack, 'welcome', profileOf(1))).toEqual(['wait-for-login']);
    const [welcome] = ctx.stack.outbox.list({ profileId: profileOf(1) });
    expect(welcome).toMatchObject({ channel: 'email', nodeId: 'welcome-email', recipient: 'member1@example.com', subject: 'Welcome to the club, Member1' });
    expect(welcome.time).toBe(iso(from));
    expect(welcome.html).toContain('<h1>Welcome, Member1!</h1>');

    // Another member's login resumes nothing: the wait is keyed by profile.
    await ctx.put('app.logged-in', { ...loggedIn(99), identities: member(99) });
    expect(await parkedStates(ctx.stack, 'welcome', profileOf(1))).toEqual(['wait-for-login']);

    // The first login on the last day of the three: the onboarding push, not the reminder.
    await ctx.clock.advance(3 * DAY - 1000);
    await ctx.put('app.logged-in', loggedIn(1));
    expect(await parkedStates(ctx.stack, 'welcome', profileOf(1))).toEqual(['wait-for-first-order']);
    await ctx.clock.advance('3d');
    await ctx.put('order.placed', orderPlaced(1));
    const [run] = runsOf(1);

    expect(run.status).toBe('SUCCEEDED');
    expect(run.path.at(-1)).toBe('converted');
    expect(run.path).not.toContain('login-reminder-email');
    expect(run.path).not.toContain('member-offer-email');
    const messages = ctx.stack.outbox.list({ profileId: profileOf(1) });
    expect(bodies(messages)).toEqual(['email:welcome-email', 'push:onboarding-push']);
    expect(messages[1].time).toBe(iso(from + 3 * DAY - 1000));
    expect(messages[1]).toMatchObject({ recipient: 'device-1', subject: "You're in!", url: 'app://onboarding' });
    // The run's data (kept in the execution history) holds ids and outcomes, not the address, name or rendered mail.
    const data = JSON.stringify(run.output);
    for (const personal of ['member1@example.com', 'Member1', '<h1>', 'device-1']) expect(data).not.toContain(personal);
    expect(run.output).toMatchObject({ steps: { welcome_email: { deliver: true, status: 'sent' } } });
  });

  it('never enters a member twice, neither while the first run is active nor after it ended', async () => {
    await ctx.put('member.signed-up', signedUp(2));
    expect(await parkedStates(ctx.stack, 'welcome', profileOf(2))).toEqual(['wait-for-login']);
    // Past the grace for a run still starting: the first run is known to be running.
    await ctx.clock.advance('1h');
    await ctx.put('member.signed-up', signedUp(2, 'signup-2-again'));
    expect(runsOf(2)).toHaveLength(1);

    await ctx.put('app.logged-in', loggedIn(2));
    expect(await parkedStates(ctx.stack, 'welcome', profileOf(2))).toEqual(['wait-for-first-order']);
    await ctx.put('order.placed', orderPlaced(2));
    expect(runsOf(2).map((r) => r.status)).toEqual(['SUCCEEDED']);
    // Without `reentry: never` an ended run would let the profile in again (a month on, no period holds it back).
    await ctx.clock.advance('30d');
    await ctx.put('member.signed-up', signedUp(2, 'signup-2-third'));

    expect(runsOf(2)).toHaveLength(1);
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
    for (const n of members) expect(await parkedStates(ctx.stack, 'welcome', profileOf(n))).toEqual(['wait-for-login']);

    expect(ctx.stack.bus.deadLetters).toEqual([]);
    for (const n of members) {
      expect(runsOf(n)).toHaveLength(1);
      expect(bodies(ctx.stack.outbox.list({ profileId: profileOf(n) }))).toEqual(['email:welcome-email']);
    }
  });
});

describe('welcome playbook (login, then no order)', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    ctx = await openVirtualStack();
  });
  afterAll(() => ctx.stack.stop());

  it('sends the member offer after the onboarding push when no order follows within the week', async () => {
    const from = ctx.clock.nowMs();
    await ctx.put('member.signed-up', signedUp(3));
    expect(await parkedStates(ctx.stack, 'welcome', profileOf(3))).toEqual(['wait-for-login']);
    await ctx.clock.advance('1d');
    await ctx.put('app.logged-in', loggedIn(3));
    // The rest of the week is the 4 days after the login.
    await ctx.clock.advance(4 * DAY - 1);
    const sent = () => bodies(ctx.stack.outbox.list({ profileId: profileOf(3) }));
    expect(sent()).toEqual(['email:welcome-email', 'push:onboarding-push']);
    await ctx.clock.advance(1);
    const [run] = ctx.stack.executions.list({ journeyId: 'welcome', profileId: profileOf(3) });

    expect(run.status).toBe('SUCCEEDED');
    expect(run.path.at(-1)).toBe('done');
    const messages = ctx.stack.outbox.list({ profileId: profileOf(3) });
    expect(bodies(messages)).toEqual(['email:welcome-email', 'push:onboarding-push', 'email:member-offer-email']);
    expect(messages.map((m) => m.time)).toEqual([iso(from), iso(from + DAY), iso(from + 5 * DAY)]);
    expect(messages[2]).toMatchObject({ recipient: 'member3@example.com', subject: 'A member-only offer for you' });
  });
});

describe('welcome playbook (no login at all)', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    ctx = await openVirtualStack();
  });
  afterAll(() => ctx.stack.stop());

  it('reminds the member to log in after three days without a login, then sends the member offer', async () => {
    const from = ctx.clock.nowMs();
    await ctx.put('member.signed-up', signedUp(4));
    await ctx.clock.runUntilIdle();
    const [run] = ctx.stack.executions.list({ journeyId: 'welcome', profileId: profileOf(4) });

    expect(run.status).toBe('SUCCEEDED');
    expect(run.path).not.toContain('onboarding-push');
    expect(run.path.at(-1)).toBe('done');
    const messages = ctx.stack.outbox.list({ profileId: profileOf(4) });
    expect(bodies(messages)).toEqual(['email:welcome-email', 'email:login-reminder-email', 'email:member-offer-email']);
    expect(messages.map((m) => m.time)).toEqual([iso(from), iso(from + 3 * DAY), iso(from + 7 * DAY)]);
    expect(messages[1]).toMatchObject({ recipient: 'member4@example.com', subject: 'Your membership is waiting' });
  });
});
