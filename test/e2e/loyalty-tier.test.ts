import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import type { BusEvent } from '../../lambdas/local/bus';
import { AUDIENCE_SCAN } from '../../lambdas/local/stack';
import { call } from './http';
import { bodies, openVirtualStack } from './local-stack';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

const email = (n: number) => `member${n}@example.com`;
const profileOf = (n: number) => newProfileId('email', email(n));
/** A tier change dated `at`, the stack's (virtual) now: attributes keep the latest event time's value. */
const tierChanged = (n: number, tier: string, at: Date, extra: Record<string, unknown> = {}) => ({
  id: `tier-${n}-${tier}-${at.getTime()}`,
  time: at.toISOString(),
  identities: { email: email(n) },
  attributes: { loyaltyTier: tier, ...extra },
});
const orderPlaced = (n: number, orderId: string, total: number) => ({ id: `order-${orderId}`, identities: { email: email(n) }, properties: { orderId, total } });

type Ctx = Awaited<ReturnType<typeof openVirtualStack>>;

/** Records the platform's segment events as the bus delivers them. */
function segmentEvents(ctx: Ctx) {
  const seen: BusEvent[] = [];
  ctx.stack.bus.addRule({ name: 'test-segment-events', pattern: { source: ['waymark.segments'] }, target: async (event) => void seen.push(event) });
  return {
    of: (n: number) =>
      seen
        .filter((e) => (e.detail as { properties: { profileId: string } }).properties.profileId === profileOf(n))
        .map((e) => `${e['detail-type']}:${(e.detail as { properties: { segmentId: string } }).properties.segmentId}`),
  };
}

describe('loyalty-tier playbook (segments drive the journey)', () => {
  let ctx: Ctx;
  let events: ReturnType<typeof segmentEvents>;
  beforeAll(async () => {
    ctx = await openVirtualStack();
    events = segmentEvents(ctx);
  });
  afterAll(() => ctx.stack.stop());

  const runsOf = (n: number) => ctx.stack.executions.list({ journeyId: 'loyalty-tier', profileId: profileOf(n) });

  it('a tier change to gold enters the gold segments, announces it, and sends the gold offer', async () => {
    await ctx.put('loyalty.tier-changed', tierChanged(1, 'gold', ctx.clock.now(), { firstName: 'Ada' }));
    const [run] = runsOf(1);

    expect(run.status).toBe('SUCCEEDED');
    const sent = ctx.stack.outbox.list({ profileId: profileOf(1) });
    expect(bodies(sent)).toEqual(['email:gold-offer']);
    expect(sent[0].subject).toBe('Welcome to Gold, Ada');
    expect(sent[0].time).toBe(ctx.clock.now().toISOString());
    expect(events.of(1).sort()).toEqual(['SegmentEntered:loyalty-gold', 'SegmentEntered:loyalty-members']);
    const profile = await call(ctx.stack, 'GET', `/profiles/${profileOf(1)}`);
    expect(Object.keys(profile.body.segments).sort()).toEqual(['loyalty-gold', 'loyalty-members']);
  });

  it('an attribute update through the API is a profile change too: the profile enters gold and the journey starts', async () => {
    await ctx.put('page.viewed', { id: 'view-7', identities: { email: email(7) } });
    const reply = await call(ctx.stack, 'PUT', `/profiles/${profileOf(7)}/attributes`, { attributes: { loyaltyTier: 'gold' } });
    expect(reply.status).toBe(200);
    expect(Object.keys(reply.body.segments).sort()).toEqual(['loyalty-gold', 'loyalty-members']);
    await ctx.stack.settle();
    const [run] = runsOf(7);
    expect(run.status).toBe('SUCCEEDED');
    expect(bodies(ctx.stack.outbox.list({ profileId: profileOf(7) }))).toEqual(['email:gold-offer']);
  });

  it('spend over 300 makes a silver member: silver offer, then an upgrade nudge a week later', async () => {
    await ctx.put('order.placed', orderPlaced(2, 'o-2a', 180));
    expect(runsOf(2)).toEqual([]);
    const from = ctx.clock.nowMs();
    await ctx.put('order.placed', orderPlaced(2, 'o-2b', 150));
    await ctx.clock.advance(7 * DAY - 1);
    expect(bodies(ctx.stack.outbox.list({ profileId: profileOf(2) }))).toEqual(['email:silver-offer']);
    await ctx.clock.advance(1);
    const [run] = runsOf(2);

    expect(run.status).toBe('SUCCEEDED');
    const messages = ctx.stack.outbox.list({ profileId: profileOf(2) });
    expect(bodies(messages)).toEqual(['email:silver-offer', 'email:upgrade-nudge']);
    expect(messages.map((m) => m.time)).toEqual([iso(from), iso(from + 7 * DAY)]);
    expect(events.of(2).sort()).toEqual(['SegmentEntered:loyalty-members', 'SegmentEntered:loyalty-silver']);
  });

  it('a silver member who reaches gold within the week gets no nudge, and is not entered again', async () => {
    await ctx.put('order.placed', orderPlaced(3, 'o-3a', 400));
    expect(bodies(ctx.stack.outbox.list({ profileId: profileOf(3) }))).toEqual(['email:silver-offer']);
    await ctx.clock.advance('3d');
    await ctx.put('order.placed', orderPlaced(3, 'o-3b', 700));
    expect(runsOf(3).map((r) => r.status)).toEqual(['RUNNING']);
    await ctx.clock.advance('4d');
    const runs = runsOf(3);

    expect(runs.map((r) => r.status)).toEqual(['SUCCEEDED']);
    expect(runs[0].path).toContain('reached-gold');
    expect(bodies(ctx.stack.outbox.list({ profileId: profileOf(3) }))).toEqual(['email:silver-offer']);
    expect(events.of(3)).toEqual(expect.arrayContaining(['SegmentExited:loyalty-silver', 'SegmentEntered:loyalty-gold']));
    expect(events.of(3)).not.toContain('SegmentExited:loyalty-members');
  });
});

describe('loyalty-tier playbook: exit criteria', () => {
  let ctx: Ctx;
  let events: ReturnType<typeof segmentEvents>;
  beforeAll(async () => {
    ctx = await openVirtualStack();
    events = segmentEvents(ctx);
  });
  afterAll(() => ctx.stack.stop());

  it('leaving the programme during the week stops the run: no nudge', async () => {
    const from = ctx.clock.nowMs();
    await ctx.put('loyalty.tier-changed', tierChanged(4, 'silver', ctx.clock.now()));
    expect(bodies(ctx.stack.outbox.list({ profileId: profileOf(4) }))).toEqual(['email:silver-offer']);
    await ctx.clock.advance('2d');
    await ctx.put('loyalty.tier-changed', tierChanged(4, 'none', ctx.clock.now()));
    const [run] = ctx.stack.executions.list({ journeyId: 'loyalty-tier', profileId: profileOf(4) });

    expect(run.status).toBe('ABORTED');
    expect(run.stopDate).toBe(iso(from + 2 * DAY));
    // The end of the week passes without a nudge.
    await ctx.clock.advance('5d');
    expect(bodies(ctx.stack.outbox.list({ profileId: profileOf(4) }))).toEqual(['email:silver-offer']);
    expect(events.of(4)).toEqual(expect.arrayContaining(['SegmentExited:loyalty-silver', 'SegmentExited:loyalty-members']));
  });
});

describe('loyalty-tier playbook: the member-day re-check on its hourly schedule', () => {
  let ctx: Ctx;
  let events: ReturnType<typeof segmentEvents>;
  beforeAll(async () => {
    // Starts at 09:00 UTC: the scheduled re-checks run at 10:00, 11:00, ... and the first of the next day at 00:00.
    ctx = await openVirtualStack({ start: '2026-12-01T09:00:00.000Z', recheckIntervalMs: HOUR });
    events = segmentEvents(ctx);
  });
  afterAll(() => ctx.stack.stop());

  const memberDayRuns = () => ctx.stack.executions.list({ journeyId: 'loyalty-member-day' });
  const lastRecheck = () => ctx.stack.executions.list({ journeyId: AUDIENCE_SCAN }).at(-1);

  it('the scheduled re-check finds members whose anniversary has come, with no event, and the member-day journey greets them', async () => {
    // Tomorrow (UTC) is the anniversary of members since 2019.
    const midnight = Date.UTC(2026, 11, 2);
    await ctx.put('loyalty.tier-changed', tierChanged(5, 'gold', ctx.clock.now(), { memberSince: '2019-12-02' }));
    await ctx.put('loyalty.tier-changed', tierChanged(6, 'silver', ctx.clock.now(), { memberSince: '2019-12-02' }));
    expect(ctx.stack.outbox.list({ journeyId: 'loyalty-tier' })).toHaveLength(2);
    expect(memberDayRuns()).toEqual([]);

    // Every re-check of the day before finds nobody.
    await ctx.clock.advanceTo(midnight - 1);
    expect(lastRecheck()).toMatchObject({ status: 'SUCCEEDED', startDate: iso(midnight - HOUR) });
    expect(memberDayRuns()).toEqual([]);
    await ctx.clock.advance(1);
    const runs = memberDayRuns();

    expect(runs.map((r) => [r.profileId, r.status, r.startDate]).sort()).toEqual(
      [[profileOf(5), 'SUCCEEDED', iso(midnight)], [profileOf(6), 'SUCCEEDED', iso(midnight)]].sort(),
    );
    expect(bodies(ctx.stack.outbox.list({ journeyId: 'loyalty-member-day', profileId: profileOf(5) }))).toEqual(['email:thank-you']);
    expect(bodies(ctx.stack.outbox.list({ journeyId: 'loyalty-member-day', profileId: profileOf(6) }))).toEqual(['email:upgrade-offer']);
    expect(events.of(5)).toContain('SegmentEntered:loyalty-member-day');

    // The next re-check the same day changes nothing: no second entry, no second announcement.
    await ctx.clock.advance(HOUR);
    expect(lastRecheck()).toMatchObject({ status: 'SUCCEEDED', startDate: iso(midnight + HOUR) });
    expect(memberDayRuns()).toHaveLength(2);
    expect(events.of(5).filter((e) => e === 'SegmentEntered:loyalty-member-day')).toHaveLength(1);
  });
});
