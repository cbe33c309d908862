import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import { call } from './http';
import { eventually, openStack, waitingAt } from './local-stack';

describe('journeys across a profile merge', () => {
  let ctx: Awaited<ReturnType<typeof openStack>>;
  beforeAll(async () => {
    ctx = await openStack(3600);
  });
  afterAll(() => ctx.stack.stop());

  it('resumes a run of the absorbed profile when the event that merges it arrives, and announces the merge', async () => {
    const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
    const older = newProfileId('email', 'gus@example.com');
    const absorbed = newProfileId('crmId', 'CRM-GUS');
    await ctx.put('app.opened', { id: 'gus-1', time: minutesAgo(10), identities: { email: 'gus@example.com' }, attributes: { pushToken: 'tok-gus' } });
    await ctx.put('member.signed-up', { id: 'gus-2', time: minutesAgo(5), identities: { crmId: 'CRM-GUS' } });
    await waitingAt(ctx.stack, 'welcome', absorbed, 'wait-for-login');

    // The login carries both identities: the signed-up profile is absorbed into the older one.
    await ctx.put('app.logged-in', { id: 'gus-3', time: minutesAgo(1), identities: { email: 'gus@example.com', crmId: 'CRM-GUS' } });
    const run = (await eventually('onboarding push sent', () => ctx.stack.executions.list({ journeyId: 'welcome', profileId: absorbed }).find((e) => e.path.includes('onboarding-push'))))!;
    // No email before the merge (the signed-up profile had none), the onboarding push after it.
    expect(run.path.slice(0, 4)).toEqual(['welcome-email', 'welcome-email.route', 'wait-for-login', 'onboarding-push']);
    // The push went to the merged profile's device, which only the older profile knew.
    await eventually('push in outbox', () => ctx.stack.outbox.list({ channel: 'push', recipient: 'tok-gus' }).length === 1);

    const merged = await call(ctx.stack, 'GET', `/profiles/${absorbed}`);
    expect(merged.body.id).toBe(older);
    expect(merged.body.mergedIds).toEqual([absorbed]);
  });
});
