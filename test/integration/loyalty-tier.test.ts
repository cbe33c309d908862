import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import type { BusEvent } from '../../lambdas/local/bus';
import { call } from './http';
import { bodies, eventually, finished, openStack } from './local-stack';

const email = (n: number) => `member${n}@example.com`;
const profileOf = (n: number) => newProfileId('email', email(n));
const tierChanged = (n: number, tier: string, extra: Record<string, unknown> = {}) => ({
  id: `tier-${n}-${tier}-${Math.random().toString(36).slice(2)}`,
  // Millisecond event times: the bus's own time has whole seconds, and attributes keep the latest event time's value.
  time: new Date().toISOString(),
  identities: { email: email(n) },
  attributes: { loyaltyTier: tier, ...extra },
});
const orderPlaced = (n: number, orderId: string, total: number) => ({ id: `order-${orderId}`, identities: { email: email(n) }, properties: { orderId, total } });

/** Records the platform's segment events as the bus delivers them. */
function segmentEvents(ctx: Awaited<ReturnType<typeof openStack>>) {
  const seen: BusEvent[] = [];
  ctx.stack.bus.addRule({ name: 'test-segment-events', pattern: { source: ['waymark.segments'] }, target: async (event) => void seen.push(event) });
  return {
    of: (n: number) =>
      seen
        .filter((e) => (e.detail as { properties: { profileId: string } }).properties.profileId === profileOf(n))
        .map((e) => `${e['detail-type']}:${(e.detail as { properties: { segmentId: string } }).properties.segmentId}`),
  };
}

describe('loyalty-tier playbook (segments drive the journey; 1 virtual day = 86 ms)', () => {
  let ctx: Awaited<ReturnType<typeof openStack>>;
  let events: ReturnType<typeof segmentEvents>;
  beforeAll(async () => {
    ctx = await openStack(1_000_000);
    events = segmentEvents(ctx);
  });
  afterAll(() => ctx.stack.stop());

  it('a tier change to gold enters the gold segments, announces it, and sends the gold offer', async () => {
    await ctx.put('loyalty.tier-changed', tierChanged(1, 'gold', { firstName: 'Ada' }));
    const [run] = await finished(ctx.stack, 'loyalty-tier', profileOf(1));

    expect(run.status).toBe('SUCCEEDED');
    const sent = ctx.stack.outbox.list({ profileId: profileOf(1) });
    expect(bodies(sent)).toEqual(['email:gold-offer']);
    expect(sent[0].subject).toBe('Welcome to Gold, Ada');
    await ctx.stack.bus.idle();
    expect(events.of(1).sort()).toEqual(['SegmentEntered:loyalty-gold', 'SegmentEntered:loyalty-members']);
    const profile = await call(ctx.stack, 'GET', `/profiles/${profileOf(1)}`);
    expect(Object.keys(profile.body.segments).sort()).toEqual(['loyalty-gold', 'loyalty-members']);
  });

  it('an attribute update through the API is a profile change too: the profile enters gold and the journey starts', async () => {
    await ctx.put('page.viewed', { id: 'view-7', identities: { email: email(7) } });
    const reply = await call(ctx.stack, 'PUT', `/profiles/${profileOf(7)}/attributes`, { attributes: { loyaltyTier: 'gold' } });
    expect(reply.status).toBe(200);
    expect(Object.keys(reply.body.segments).sort()).toEqual(['loyalty-gold', 'loyalty-members']);
    const [run] = await finished(ctx.stack, 'loyalty-tier', profileOf(7));
    expect(run.status).toBe('SUCCEEDED');
    expect(bodies(ctx.stack.outbox.list({ profileId: profileOf(7) }))).toEqual(['email:gold-offer']);
  });

  it('spend over 300 makes a silver member: silver offer, then an upgrade nudge a week later', async () => {
    await ctx.put('order.placed', orderPlaced(2, 'o-2a', 180));
    expect(ctx.stack.executions.list({ journeyId: 'loyalty-tier', profileId: profileOf(2) })).toEqual([]);
    await ctx.put('order.placed', orderPlaced(2, 'o-2b', 150));
    const [run] = await finished(ctx.stack, 'loyalty-tier', profileOf(2));

    expect(run.status).toBe('SUCCEEDED');
    expect(bodies(ctx.stack.outbox.list({ profileId: profileOf(2) }))).toEqual(['email:silver-offer', 'email:upgrade-nudge']);
    expect(events.of(2).sort()).toEqual(['SegmentEntered:loyalty-members', 'SegmentEntered:loyalty-silver']);
  });

  it('a silver member who reaches gold within the week gets no nudge, and is not entered again', async () => {
    await ctx.put('order.placed', orderPlaced(3, 'o-3a', 400));
    await eventually('silver offer sent', () => ctx.stack.outbox.list({ profileId: profileOf(3) }).length === 1);
    await ctx.put('order.placed', orderPlaced(3, 'o-3b', 700));
    const runs = await finished(ctx.stack, 'loyalty-tier', profileOf(3));

    expect(runs.map((r) => r.status)).toEqual(['SUCCEEDED']);
    expect(bodies(ctx.stack.outbox.list({ profileId: profileOf(3) }))).toEqual(['email:silver-offer']);
    expect(events.of(3)).toEqual(expect.arrayContaining(['SegmentExited:loyalty-silver', 'SegmentEntered:loyalty-gold']));
    expect(events.of(3)).not.toContain('SegmentExited:loyalty-members');
  });
});

describe('loyalty-tier playbook: exit criteria and the member-day re-check (1 virtual day = 0.86 s)', () => {
  let ctx: Awaited<ReturnType<typeof openStack>>;
  let events: ReturnType<typeof segmentEvents>;
  let shift = 0;
  beforeAll(async () => {
    ctx = await openStack(100_000, { clock: { now: () => new Date(Date.now() + shift) } });
    events = segmentEvents(ctx);
  });
  afterAll(() => ctx.stack.stop());

  it('leaving the programme during the week stops the run: no nudge', async () => {
    await ctx.put('loyalty.tier-changed', tierChanged(4, 'silver'));
    await eventually('silver offer sent', () => ctx.stack.outbox.list({ profileId: profileOf(4) }).length === 1);
    await ctx.put('loyalty.tier-changed', tierChanged(4, 'none'));
    const [run] = await finished(ctx.stack, 'loyalty-tier', profileOf(4));

    expect(run.status).toBe('ABORTED');
    expect(bodies(ctx.stack.outbox.list({ profileId: profileOf(4) }))).toEqual(['email:silver-offer']);
    expect(events.of(4)).toEqual(expect.arrayContaining(['SegmentExited:loyalty-silver', 'SegmentExited:loyalty-members']));
  });

  it('the scheduled re-check finds members whose anniversary has come, with no event, and the member-day journey greets them', async () => {
    const tomorrow = new Date(Date.now() + 86_400_000);
    const memberSince = `2019-${String(tomorrow.getUTCMonth() + 1).padStart(2, '0')}-${String(tomorrow.getUTCDate()).padStart(2, '0')}`;
    await ctx.put('loyalty.tier-changed', tierChanged(5, 'gold', { memberSince }));
    await ctx.put('loyalty.tier-changed', tierChanged(6, 'silver', { memberSince }));
    await finished(ctx.stack, 'loyalty-tier');
    expect(ctx.stack.executions.list({ journeyId: 'loyalty-member-day' })).toEqual([]);

    shift = 86_400_000;
    const { executionArn } = await ctx.stack.recheckSegments();
    await eventually('re-check finished', () => ctx.stack.executions.get(executionArn)?.status === 'SUCCEEDED');
    const runs = await finished(ctx.stack, 'loyalty-member-day');

    expect(runs.map((r) => [r.profileId, r.status]).sort()).toEqual([[profileOf(5), 'SUCCEEDED'], [profileOf(6), 'SUCCEEDED']].sort());
    expect(bodies(ctx.stack.outbox.list({ journeyId: 'loyalty-member-day', profileId: profileOf(5) }))).toEqual(['email:thank-you']);
    expect(bodies(ctx.stack.outbox.list({ journeyId: 'loyalty-member-day', profileId: profileOf(6) }))).toEqual(['email:upgrade-offer']);
    expect(events.of(5)).toContain('SegmentEntered:loyalty-member-day');

    // A second re-check the same day changes nothing: no second entry, no second announcement.
    const again = await ctx.stack.recheckSegments();
    await eventually('second re-check finished', () => ctx.stack.executions.get(again.executionArn)?.status === 'SUCCEEDED');
    await ctx.stack.settle();
    expect(ctx.stack.executions.list({ journeyId: 'loyalty-member-day' })).toHaveLength(2);
    expect(events.of(5).filter((e) => e === 'SegmentEntered:loyalty-member-day')).toHaveLength(1);
  });
});
