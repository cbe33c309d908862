import type { EventBridgeEvent } from '../../../lambdas/core/events/business-event';
import { registerWait } from '../../../lambdas/core/runtime/waits';
import { routeBusEvent } from '../../../lambdas/core/runtime/route';
import { FakeClock, journeyRecord, runtime } from './fakes';
import { memoryCampaignRuns } from '../../../lambdas/core/campaigns/memory';
import { MemoryCampaignConversionStore } from '../../../lambdas/local/memory/campaign-conversions';
import { MemoryTable } from '../../../lambdas/local/memory/table';

function setup() {
  const welcome = journeyRecord({ id: 'welcome', entry: { kind: 'event', event: 'user.signed_up' } });
  const shopOnly = journeyRecord({ id: 'shop-only', entry: { kind: 'event', event: 'user.signed_up', source: 'shop' } });
  const posOnly = journeyRecord({ id: 'pos-only', entry: { kind: 'event', event: 'user.signed_up', source: 'pos' } });
  const orders = journeyRecord({ id: 'orders', entry: { kind: 'event', event: 'order.placed' } });
  const outreach = journeyRecord({ id: 'outreach', entry: { kind: 'api' } });
  const onboarding = journeyRecord({
    id: 'onboarding',
    entry: { kind: 'api' },
    start: 'await-signup',
    nodes: [
      { id: 'await-signup', kind: 'wait-for-event', events: ['user.signed_up'], timeout: '7d', onEvent: 'done', onTimeout: 'done' },
      { id: 'done', kind: 'exit' },
    ],
  });
  return runtime([welcome, shopOnly, posOnly, orders, outreach, onboarding], new FakeClock('2026-06-01T12:00:00.000Z'));
}

function busEvent(overrides: Partial<EventBridgeEvent> = {}, detail: Record<string, unknown> = { identities: { email: 'ada@example.com' }, attributes: { firstName: 'Ada' } }): EventBridgeEvent {
  return { id: 'eb-1', 'detail-type': 'user.signed_up', source: 'shop', time: '2026-06-01T11:59:00Z', detail, ...overrides };
}

describe('routeBusEvent', () => {
  it('keeps an invalid event in the rejected store with its field errors, and writes no profile', async () => {
    const deps = setup();
    const raw = busEvent({}, { attributes: { firstName: 'Ada' } });
    const result = await routeBusEvent(deps, raw);
    expect(result).toEqual({ status: 'rejected', errors: [expect.objectContaining({ field: 'detail.identities' })] });
    expect(deps.rejected.items).toEqual([{ receivedAt: '2026-06-01T12:00:00.000Z', origin: 'bus', errors: result.status === 'rejected' ? result.errors : [], raw }]);
    expect(deps.profiles.writes).toEqual([]);
    expect(deps.executions.executions.size).toBe(0);
  });

  it.each([
    ['more than 5 minutes ahead of receipt', '2026-06-01T12:05:01Z', 'is more than 5 minutes after its receipt'],
    ['in the year 2999', '2999-01-01T00:00:00Z', 'is more than 5 minutes after its receipt'],
    ['before 2000', '1970-01-01T00:00:00Z', 'is before 2000-01-01'],
  ])('keeps an event dated %s in the rejected store with the reason, and writes no profile', async (_, time, message) => {
    const deps = setup();
    const raw = busEvent({}, { time, identities: { email: 'ada@example.com' }, consent: { email: 'opted-in' } });
    const result = await routeBusEvent(deps, raw);
    expect(result).toEqual({ status: 'rejected', errors: [{ field: 'detail.time', message: expect.stringContaining(message) }] });
    expect(deps.rejected.items).toEqual([expect.objectContaining({ origin: 'bus', raw })]);
    expect(deps.profiles.writes).toEqual([]);
  });

  it('routes an event dated up to 5 minutes ahead of its receipt (clock skew)', async () => {
    const deps = setup();
    expect((await routeBusEvent(deps, busEvent({}, { time: '2026-06-01T12:05:00Z', identities: { email: 'ada@example.com' } }))).status).toBe('routed');
  });

  it.each(['waymark.profiles', 'waymark.api', 'waymark.'])('ignores a platform event from %s, even an invalid one, writing nothing', async (source) => {
    const deps = setup();
    expect(await routeBusEvent(deps, busEvent({ source }))).toEqual({ status: 'ignored', reason: 'platform-event' });
    expect(await routeBusEvent(deps, busEvent({ source }, {}))).toEqual({ status: 'ignored', reason: 'platform-event' });
    expect(deps.profiles.writes).toEqual([]);
    expect(deps.rejected.items).toEqual([]);
    expect(deps.executions.executions.size).toBe(0);
  });

  it('ignores an AWS service event (aws.ses bounces have rules of their own), writing nothing', async () => {
    const deps = setup();
    expect(await routeBusEvent(deps, busEvent({ source: 'aws.ses', 'detail-type': 'Email Bounced' }, { eventType: 'Bounce' }))).toEqual({ status: 'ignored', reason: 'aws-event' });
    expect(deps.profiles.writes).toEqual([]);
    expect(deps.rejected.items).toEqual([]);
  });

  it('routes a source that only looks like the platform', async () => {
    const deps = setup();
    expect((await routeBusEvent(deps, busEvent({ source: 'waymarks' }))).status).toBe('routed');
  });

  it('updates the profile, resumes its waits and enters the journeys whose entry matches', async () => {
    const deps = setup();
    // A profile already known and waiting in the onboarding journey.
    deps.profiles.add({ id: 'p-ada', identities: { email: 'ada@example.com' } });
    await registerWait(deps, {
      executionId: 'exec-onboarding',
      node: { id: 'await-signup', kind: 'wait-for-event', events: ['user.signed_up'], timeout: '7d', onEvent: 'done', onTimeout: 'done' },
      state: { journey: { id: 'onboarding', version: 'v1' }, profileId: 'p-ada', profile: { id: 'p-ada', attributes: {}, identities: {} }, event: {}, context: {}, steps: {} },
      token: 'tok-1',
    });
    deps.executions.awaitToken('tok-1');

    const result = await routeBusEvent(deps, busEvent());

    expect(result).toMatchObject({ status: 'routed', profileId: 'p-ada', resumed: [{ executionId: 'exec-onboarding', nodeId: 'await-signup' }] });
    expect(result.status === 'routed' && result.entries.map((e) => [e.journeyId, e.status])).toEqual([
      ['welcome', 'started'],
      ['shop-only', 'started'],
    ]);
    expect(deps.profiles.profiles.get('p-ada')?.attributes).toEqual({ firstName: 'Ada' });
    expect(deps.waits.keys()).toEqual([]);
    const started = [...deps.executions.executions.values()];
    expect(started.map((e) => e.input.event)).toEqual([
      expect.objectContaining({ id: 'eb-1', type: 'user.signed_up', source: 'shop', time: '2026-06-01T11:59:00Z' }),
      expect.objectContaining({ id: 'eb-1' }),
    ]);
    // Attributes stay in the profile (steps read it): the run carries the profile id.
    expect(started[0].input.profile).toEqual({ id: started[0].input.profileId, attributes: {}, identities: {} });
  });

  it('starts nothing twice when the bus delivers the same event again', async () => {
    const deps = setup();
    const first = await routeBusEvent(deps, busEvent());
    const again = await routeBusEvent(deps, busEvent());
    expect(first.status === 'routed' && first.entries.map((e) => e.status)).toEqual(['started', 'started']);
    expect(again.status === 'routed' && again.entries.map((e) => e.status)).toEqual(['already-started', 'already-started']);
    expect(deps.executions.executions.size).toBe(2);
  });

  it('announces a merge the event caused as a ProfileMerged platform event', async () => {
    const deps = setup();
    deps.profiles.mergeNext = ['p-old'];
    const result = await routeBusEvent(deps, busEvent());
    expect(deps.publisher.published).toEqual([
      expect.objectContaining({ type: 'ProfileMerged', source: 'waymark.profiles', properties: expect.objectContaining({ absorbed: ['p-old'], profileId: result.status === 'routed' ? result.profileId : '' }) }),
    ]);
  });

  it('routes a catalog event to catalog-scoped waits only: no profile written, no journey entered', async () => {
    const deps = setup();
    const wait = { id: 'await-restock', kind: 'wait-for-event' as const, events: ['user.signed_up'], timeout: '1d', onEvent: 'done', onTimeout: 'done' };
    const catalogWait = { ...wait, correlate: { property: 'productId', equals: 'event.properties.productIds', scope: 'catalog' as const } };
    deps.journeys.records.push(journeyRecord({ id: 'restock', entry: { kind: 'event', event: 'cart.updated' }, start: wait.id, nodes: [catalogWait, { id: 'done', kind: 'exit' }] }));
    const state = { journey: { id: 'restock', version: 'v1' }, profileId: 'p-ada', profile: { id: 'p-ada', attributes: {}, identities: {} }, event: { properties: { productIds: ['sku-1'] } }, context: {}, steps: {} };
    await registerWait(deps, { executionId: 'exec-restock', node: catalogWait, state, token: 'tok-restock' });
    await registerWait(deps, { executionId: 'exec-onboarding', node: wait, state: { ...state, journey: { id: 'onboarding', version: 'v1' } }, token: 'tok-onboarding' });
    deps.executions.awaitToken('tok-restock');
    deps.executions.awaitToken('tok-onboarding');

    const result = await routeBusEvent(deps, busEvent({}, { catalog: true, properties: { productId: 'sku-1' } }));

    expect(result).toEqual({ status: 'catalog', resumed: [{ executionId: 'exec-restock', nodeId: 'await-restock' }] });
    expect(deps.profiles.writes).toEqual([]);
    expect(deps.executions.executions.size).toBe(0);
    expect(deps.waits.keys()).toEqual(['user.signed_up#profile#p-ada']);
  });
});

describe('routeBusEvent: journey versions', () => {
  it("starts a journey on its live alias, and names the run under the state machine (where re-entry and erasure find it)", async () => {
    const deps = setup();
    const welcome = (await deps.journeys.get('welcome'))!;
    const result = await routeBusEvent(deps, busEvent({ source: 'web' }));
    if (result.status !== 'routed') throw new Error(`not routed: ${result.status}`);
    const [entry] = result.entries;
    expect(entry).toMatchObject({ status: 'started', journeyId: 'welcome' });
    const [run] = deps.executions.executions.values();
    expect(run.stateMachineArn).toBe(`${welcome.stateMachineArn}:live`);
    const runArn = `${welcome.stateMachineArn.replace(':stateMachine:', ':execution:')}:${run.name}`;
    expect(entry.status === 'started' && entry.executionArn).toBe(runArn);
    expect((await deps.enrollments.get('welcome', result.profileId))?.executionArn).toBe(runArn);
    expect(await deps.executions.stop(runArn)).toBe(true);
  });

  it('starts a journey registered before versions (no alias in its item) on the state machine itself', async () => {
    const { aliasArn: _alias, live: _live, ...legacy } = journeyRecord({ id: 'welcome', entry: { kind: 'event', event: 'user.signed_up' } });
    const deps = runtime([legacy], new FakeClock('2026-06-01T12:00:00.000Z'));
    await routeBusEvent(deps, busEvent());
    expect([...deps.executions.executions.values()].map((e) => e.stateMachineArn)).toEqual([legacy.stateMachineArn]);
  });

  it("converts the profile's campaign run windows on a campaign goal event, and reads none for other events", async () => {
    const deps = setup();
    const table = new MemoryTable('runtime', { profileIndex: true });
    const store = new MemoryCampaignConversionStore(table);
    const runs = memoryCampaignRuns();
    const goals = async () => new Set(['order.placed']);
    const routed = await routeBusEvent(deps, busEvent());
    if (routed.status !== 'routed') throw new Error(routed.status);
    const goal = { event: 'order.placed', within: '7d' };
    const window = { campaignId: 'news', runId: 'r-1', profileId: routed.profileId, goal, openedAt: '2026-06-01T00:00:00.000Z' };
    await store.open([{ ...window, until: '2026-06-08T00:00:00.000Z', group: 'control-group', branches: {} }]);
    const openAt = jest.spyOn(store, 'openAt');
    const withGoals = { ...deps, campaignGoals: { goals, store, runs } };
    await routeBusEvent(withGoals, busEvent({ id: 'eb-2' }));
    expect(openAt).not.toHaveBeenCalled();
    await routeBusEvent(withGoals, busEvent({ id: 'eb-3', 'detail-type': 'order.placed' }));
    expect(await runs.counts('news', 'r-1')).toEqual([{ step: '', name: 'converted', dim: 'control-group', value: 1 }]);
  });
});
