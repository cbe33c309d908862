import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import { call } from './http';
import { openVirtualStack, parkedStates } from './local-stack';

describe('journeys across a profile merge', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    ctx = await openVirtualStack();
  });
  afterAll(() => ctx.stack.stop());
  // Each event is sent at its own virtual time, dated then: the survivor of a merge is the profile created first, and
  // profiles created at the same instant would tie (then the smaller id wins), so time moves between the events.
  const now = () => ctx.clock.now().toISOString();
  const minutesLater = (m: number) => ctx.clock.advance(m * 60_000);

  it('resumes a run of the absorbed profile when the event that merges it arrives, and announces the merge', async () => {
    const older = newProfileId('email', 'gus@example.com');
    const absorbed = newProfileId('crmId', 'CRM-GUS');
    await ctx.put('app.opened', { id: 'gus-1', time: now(), identities: { email: 'gus@example.com' }, attributes: { pushToken: 'tok-gus' } });
    await minutesLater(5);
    await ctx.put('member.signed-up', { id: 'gus-2', time: now(), identities: { crmId: 'CRM-GUS' } });
    expect(await parkedStates(ctx.stack, 'welcome', absorbed)).toEqual(['wait-for-login']);

    // The login carries both identities: the signed-up profile is absorbed into the older one.
    await minutesLater(4);
    await ctx.put('app.logged-in', { id: 'gus-3', time: now(), identities: { email: 'gus@example.com', crmId: 'CRM-GUS' } });
    const [run] = ctx.stack.executions.list({ journeyId: 'welcome', profileId: absorbed });
    // No email before the merge (the signed-up profile had none), the onboarding push after it.
    expect(run.path.slice(0, 4)).toEqual(['welcome-email', 'welcome-email.route', 'wait-for-login', 'onboarding-push']);
    // The push went to the merged profile's device, which only the older profile knew.
    expect(ctx.stack.outbox.list({ channel: 'push', recipient: 'tok-gus' })).toHaveLength(1);
    expect(await parkedStates(ctx.stack, 'welcome', absorbed)).toEqual(['wait-for-first-order']);

    const merged = await call(ctx.stack, 'GET', `/profiles/${absorbed}`);
    expect(merged.body.id).toBe(older);
    expect(merged.body.mergedIds).toEqual([absorbed]);
  });

  const profileBy = async (identity: string) => (await call(ctx.stack, 'GET', `/profiles?identity=${encodeURIComponent(identity)}`)).body.id as string;

  it('does not welcome the survivor to Gold again when it absorbs a profile that was welcomed (re-entry after 30 days)', async () => {
    await ctx.put('page.viewed', { id: 'hal-1', time: now(), identities: { email: 'hal@example.com' } });
    await minutesLater(5);
    await ctx.put('loyalty.tier-changed', { id: 'hal-2', time: now(), identities: { crmId: 'CRM-HAL', email: 'hal.work@example.com' }, attributes: { loyaltyTier: 'gold', firstName: 'Hal' } });
    const absorbed = await profileBy('crmId:CRM-HAL');
    // The gold branch has no wait: the run has ended once the event has settled.
    expect(ctx.stack.executions.list({ journeyId: 'loyalty-tier', profileId: absorbed }).map((e) => e.status)).toEqual(['SUCCEEDED']);
    const welcomes = () => ctx.stack.outbox.list({ journeyId: 'loyalty-tier' }).filter((m) => m.subject?.startsWith('Welcome to Gold, Hal'));
    expect(welcomes()).toHaveLength(1);

    await minutesLater(4);
    await ctx.put('app.logged-in', { id: 'hal-3', time: now(), identities: { email: 'hal@example.com', crmId: 'CRM-HAL' } });

    const survivor = await profileBy('email:hal@example.com');
    expect(survivor).not.toBe(absorbed);
    expect(welcomes()).toHaveLength(1);
    expect(ctx.stack.executions.list({ journeyId: 'loyalty-tier', profileId: survivor })).toEqual([]);
    // The memberships came with the absorbed profile: the survivor is in gold, entered when the absorbed one entered it.
    const merged = await call(ctx.stack, 'GET', `/profiles/${survivor}`);
    expect(Object.keys(merged.body.segments).sort()).toEqual(expect.arrayContaining(['loyalty-gold', 'loyalty-members']));
  });

  it("keeps counting the absorbed profile's offer proposals against the survivor's per-profile caps", async () => {
    const decide = (profileId: string) => call(ctx.stack, 'POST', '/decisions', { profileId, placements: ['push'], context: { cartTotal: 150 } });
    const chosen = (reply: Awaited<ReturnType<typeof decide>>) => reply.body.placements.push.offers.map((o: { offerId: string }) => o.offerId);
    await ctx.put('page.viewed', { id: 'ivy-1', time: now(), identities: { email: 'ivy@example.com' } });
    await minutesLater(5);
    await ctx.put('cart.updated', { id: 'ivy-2', time: now(), identities: { crmId: 'CRM-IVY' }, properties: { action: 'item-removed', total: 150 } });
    const absorbed = await profileBy('crmId:CRM-IVY');
    // cart-discount: at most once in 30 days per profile.
    expect(chosen(await decide(absorbed))).toEqual(['cart-discount']);

    await minutesLater(4);
    await ctx.put('app.logged-in', { id: 'ivy-3', time: now(), identities: { email: 'ivy@example.com', crmId: 'CRM-IVY' } });
    const survivor = await profileBy('email:ivy@example.com');
    expect(survivor).not.toBe(absorbed);

    const after = await decide(survivor);
    expect(after.body.profileId).toBe(survivor);
    expect(chosen(after)).not.toContain('cart-discount');
    expect(after.body.placements.push.explanation.find((l: { offerId: string }) => l.offerId === 'cart-discount')).toMatchObject({ capped: 'perProfile' });
  });
});
