import type { BusinessEvent } from '../../../lambdas/core/events/business-event';
import { routeBusinessEvent } from '../../../lambdas/core/runtime/route';
import type { Profile } from '../../../lambdas/core/runtime/ports';
import { updateSegments, type SegmentRuntimeDeps } from '../../../lambdas/core/runtime/segments';
import { cachedSegmentCatalog } from '../../../lambdas/core/segments/cached-catalog';
import { SEGMENT_EVENT_SOURCE } from '../../../lambdas/core/segments/events';
import { InMemoryMembershipStore, InMemorySegmentStore } from '../../../lambdas/core/segments/memory-stores';
import type { SegmentRecord } from '../../../lambdas/core/segments/ports';
import type { Rule, SegmentDefinition } from '../../../lambdas/core/segments/rule';
import { businessEvent, FakeClock, journeyRecord, runtime } from '../runtime/fakes';

const NOW = '2026-06-01T12:00:00.000Z';
const EARLIER = '2026-01-01T00:00:00.000Z';
const attr = (name: string) => ({ kind: 'attribute' as const, name });

function record(id: string, rule: Rule): SegmentRecord {
  const definition: SegmentDefinition = { schemaVersion: 1, id, name: id, rule };
  return { definition, origin: 'file', version: 1, updatedAt: EARLIER };
}

/** gold (tier) ← gold-de (gold + country); silver (tier); recent-buyer (order.placed in the window). */
const segmentRecords = [
  record('gold', { kind: 'equals', field: attr('tier'), value: 'gold' }),
  record('gold-de', { kind: 'all', rules: [{ kind: 'segment', id: 'gold' }, { kind: 'equals', field: attr('country'), value: 'DE' }] }),
  record('silver', { kind: 'equals', field: attr('tier'), value: 'silver' }),
  record('recent-buyer', { kind: 'event', type: 'order.placed', within: '7d' }),
];

function setup(journeys = [journeyRecord()]) {
  const clock = new FakeClock(NOW);
  const base = runtime(journeys, clock);
  const memberships = new InMemoryMembershipStore();
  const deps: SegmentRuntimeDeps = { ...base, segments: cachedSegmentCatalog(new InMemorySegmentStore(segmentRecords), clock), memberships };
  return { ...base, deps, memberships, journeyRecords: journeys };
}

function profile(attributes: Record<string, unknown>, extra: Partial<Profile> = {}): Profile {
  return { id: 'p-ada', attributes, identities: { email: 'ada@example.com' }, createdAt: EARLIER, updatedAt: EARLIER, recentEvents: [], ...extra };
}

const cause = { id: 'evt-42', type: 'user.updated' };

describe('updateSegments', () => {
  it('announces SegmentEntered for each segment entered and stores the memberships', async () => {
    const { deps, memberships, publisher } = setup();
    const update = await updateSegments(deps, [], profile({ tier: 'gold', country: 'DE' }), 'all', cause);

    expect(update.entered).toEqual(['gold', 'gold-de']);
    expect(update.exited).toEqual([]);
    expect(publisher.published).toEqual([
      expect.objectContaining({ type: 'SegmentEntered', source: SEGMENT_EVENT_SOURCE, time: NOW, identities: { email: 'ada@example.com' }, properties: { segmentId: 'gold', profileId: 'p-ada', causedBy: cause } }),
      expect.objectContaining({ type: 'SegmentEntered', properties: { segmentId: 'gold-de', profileId: 'p-ada', causedBy: cause } }),
    ]);
    expect(memberships.peek('p-ada')).toEqual({ segments: { gold: NOW, 'gold-de': NOW }, version: expect.any(Number) });
  });

  it('gives an announcement the same id whenever the same cause is evaluated again, and a different id for another cause', async () => {
    const ids = async (c: { id: string; type: string }) => {
      const { deps, publisher } = setup();
      await updateSegments(deps, [], profile({ tier: 'gold' }), ['gold'], c);
      return publisher.published.map((e) => e.id);
    };
    const first = await ids(cause);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatch(/^segment-entered-[0-9a-f]{32}$/);
    expect(await ids(cause)).toEqual(first);
    expect(await ids({ id: 'evt-43', type: 'user.updated' })).not.toEqual(first);
  });

  it('announces SegmentExited when the profile no longer qualifies, keeping the other memberships and their dates', async () => {
    const { deps, memberships, publisher } = setup();
    await memberships.put('p-ada', { gold: EARLIER, 'gold-de': EARLIER }, 0);

    const update = await updateSegments(deps, [], profile({ tier: 'gold', country: 'FR' }), ['country-is-not-a-segment', 'gold-de'], cause);

    expect(update).toMatchObject({ evaluated: 1, entered: [], exited: ['gold-de'] });
    expect(publisher.published.map((e) => [e.type, e.properties.segmentId])).toEqual([['SegmentExited', 'gold-de']]);
    expect(publisher.published[0].id).toMatch(/^segment-exited-/);
    expect(memberships.peek('p-ada')).toEqual({ segments: { gold: EARLIER }, version: expect.any(Number) });
  });

  it('starts the journeys that enter on a segment the profile entered, with the event and memberships as input', async () => {
    const goldWelcome = journeyRecord({ id: 'gold-welcome', entry: { kind: 'segment', segment: 'gold' } });
    const silverWelcome = journeyRecord({ id: 'silver-welcome', entry: { kind: 'segment', segment: 'silver' } });
    const { deps, executions, publisher } = setup([goldWelcome, silverWelcome]);

    const update = await updateSegments(deps, [goldWelcome, silverWelcome], profile({ tier: 'gold', country: 'DE' }), 'all', cause);

    expect(update.entries).toEqual([expect.objectContaining({ status: 'started', journeyId: 'gold-welcome' })]);
    const started = executions.running();
    expect(started).toHaveLength(1);
    expect(started[0].stateMachineArn).toBe(goldWelcome.aliasArn);
    const { identities: _identities, ...announced } = publisher.published.find((e) => e.properties.segmentId === 'gold')!;
    expect(started[0].input.event).toEqual(announced);
    // The snapshot carries the memberships after this evaluation, keyed JSONPath-safe.
    expect(started[0].input.profile.segments).toEqual({ gold: NOW, gold_de: NOW });
  });

  it('starts a segment-entry journey once, and announces with the same id, when the same cause is evaluated again', async () => {
    const goldWelcome = journeyRecord({ id: 'gold-welcome', entry: { kind: 'segment', segment: 'gold' } });
    const { deps, executions, publisher } = setup([goldWelcome]);
    const first = await updateSegments(deps, [goldWelcome], profile({ tier: 'gold' }), ['gold'], cause);
    // The membership write is lost (a retried event evaluated against an older copy): the same transition again.
    const again = { ...deps, memberships: new InMemoryMembershipStore() };
    const second = await updateSegments(again, [goldWelcome], profile({ tier: 'gold' }), ['gold'], cause);

    expect(first.entries).toEqual([expect.objectContaining({ status: 'started', journeyId: 'gold-welcome' })]);
    expect(second.entries).toEqual([expect.objectContaining({ status: 'already-started', journeyId: 'gold-welcome', executionArn: first.entries[0].status === 'started' ? first.entries[0].executionArn : '' })]);
    expect(executions.executions.size).toBe(1);
    expect(publisher.published).toHaveLength(2);
    expect(publisher.published[1].id).toBe(publisher.published[0].id);
  });

  it('stops the run of a journey whose exit criteria name a segment the profile left, and no other run', async () => {
    const goldCare = journeyRecord({ id: 'gold-care', entry: { kind: 'api' }, exitCriteria: [{ kind: 'segment-exited', segment: 'gold' }] });
    const silverCare = journeyRecord({ id: 'silver-care', entry: { kind: 'api' }, exitCriteria: [{ kind: 'segment-exited', segment: 'silver' }] });
    const noCriteria = journeyRecord({ id: 'newsletter', entry: { kind: 'api' } });
    const journeys = [goldCare, silverCare, noCriteria];
    const { deps, executions, enrollments, memberships } = setup(journeys);
    const runs: Record<string, string> = {};
    for (const j of journeys) {
      const { executionArn } = await executions.start(j.stateMachineArn, `run-${j.journey.id}`, { journey: { id: j.journey.id, version: 'v1' }, profileId: 'p-ada', profile: { id: 'p-ada', attributes: {}, identities: {} }, event: {}, context: {}, steps: {} });
      enrollments.put({ journeyId: j.journey.id, profileId: 'p-ada', executionName: `run-${j.journey.id}`, executionArn, enteredAt: EARLIER });
      runs[j.journey.id] = executionArn;
    }
    await memberships.put('p-ada', { gold: EARLIER }, 0);

    const update = await updateSegments(deps, journeys, profile({ tier: 'bronze' }), ['gold'], cause);

    expect(update.exited).toEqual(['gold']);
    expect(update.stopped).toEqual([{ journeyId: 'gold-care', executionArn: runs['gold-care'] }]);
    expect(executions.executions.get(runs['gold-care'])?.status).toBe('ABORTED');
    expect(executions.executions.get(runs['silver-care'])?.status).toBe('RUNNING');
    expect(executions.executions.get(runs.newsletter)?.status).toBe('RUNNING');
  });

  it('re-evaluates on what a concurrent writer stored when the memberships version moved between read and write', async () => {
    const { deps, memberships, publisher } = setup();
    // Another evaluation of the same profile writes between this one's read and its conditional write.
    memberships.afterGet = () => void memberships.put('p-ada', { gold: EARLIER, silver: EARLIER }, 0);

    const update = await updateSegments(deps, [], profile({ tier: 'gold', country: 'DE' }), 'all', cause);

    // gold keeps the concurrent writer's date; the stale silver membership is corrected; gold-de is entered.
    expect(memberships.peek('p-ada')).toEqual({ segments: { gold: EARLIER, 'gold-de': NOW }, version: expect.any(Number) });
    expect(update.entered).toEqual(['gold-de']);
    expect(update.exited).toEqual(['silver']);
    expect(update.memberships).toEqual({ gold: EARLIER, 'gold-de': NOW });
    // Both attempts ran every rule.
    expect(update.evaluated).toBe(2 * segmentRecords.length);
    expect(publisher.published.filter((e) => e.type === 'SegmentExited').map((e) => e.properties.segmentId)).toEqual(['silver']);
    // Nothing was announced for the first attempt's view (gold entered over an empty state): it lost the write.
    expect(publisher.published.filter((e) => e.type === 'SegmentEntered').map((e) => e.properties.segmentId)).toEqual(['gold-de']);
  });

  it('gives up with an error when the memberships keep changing', async () => {
    const { deps, memberships } = setup();
    let version = 0;
    memberships.put = async () => {
      version++;
      return false;
    };
    await expect(updateSegments(deps, [], profile({ tier: 'gold' }), ['gold'], cause)).rejects.toThrow('kept changing during evaluation (5 attempts)');
    expect(version).toBe(5);
  });

  it('publishes and writes nothing when no membership changes', async () => {
    const goldWelcome = journeyRecord({ id: 'gold-welcome', entry: { kind: 'segment', segment: 'gold' } });
    const { deps, memberships, publisher, executions } = setup([goldWelcome]);
    await memberships.put('p-ada', { gold: EARLIER }, 0);

    const update = await updateSegments(deps, [goldWelcome], profile({ tier: 'gold', country: 'FR' }), 'all', cause);

    expect(update).toEqual({ evaluated: segmentRecords.length, entered: [], exited: [], memberships: { gold: EARLIER }, entries: [], stopped: [] });
    expect(publisher.published).toEqual([]);
    expect(memberships.writes).toBe(1);
    expect(memberships.peek('p-ada').version).toBe(1);
    expect(executions.executions.size).toBe(0);
  });

  it('writes (without announcing) when only memberships of deleted segments are dropped', async () => {
    const { deps, memberships, publisher } = setup();
    await memberships.put('p-ada', { gold: EARLIER, retired: EARLIER }, 0);

    const update = await updateSegments(deps, [], profile({ tier: 'gold' }), ['gold'], cause);

    expect(update.entered).toEqual([]);
    expect(update.exited).toEqual([]);
    expect(publisher.published).toEqual([]);
    expect(memberships.peek('p-ada')).toEqual({ segments: { gold: EARLIER }, version: expect.any(Number) });
  });

  it('evaluates and changes nothing for an empty scope', async () => {
    const { deps, memberships, publisher } = setup();
    await memberships.put('p-ada', { silver: EARLIER }, 0);
    const update = await updateSegments(deps, [], profile({ tier: 'gold' }), [], cause);
    expect(update).toEqual({ evaluated: 0, entered: [], exited: [], entries: [], stopped: [] });
    expect(memberships.peek('p-ada')).toEqual({ segments: { silver: EARLIER }, version: 1 });
    expect(publisher.published).toEqual([]);
  });

  it('announces and acts on transitions an earlier evaluation stored as pending, then clears them', async () => {
    const goldWelcome = journeyRecord({ id: 'gold-welcome', entry: { kind: 'segment', segment: 'gold' } });
    const { deps, memberships, publisher, executions } = setup([goldWelcome]);
    // An evaluation stored gold as entered, then failed before announcing it.
    await memberships.put('p-ada', { gold: EARLIER }, 0, { entered: ['gold'], exited: [], cause: { id: 'evt-1', type: 'user.updated' }, at: EARLIER });

    const update = await updateSegments(deps, [goldWelcome], profile({ tier: 'gold' }), [], cause);

    expect(publisher.published).toEqual([expect.objectContaining({ type: 'SegmentEntered', time: EARLIER, properties: { segmentId: 'gold', profileId: 'p-ada', causedBy: { id: 'evt-1', type: 'user.updated' } } })]);
    expect(update.entries).toEqual([expect.objectContaining({ status: 'started', journeyId: 'gold-welcome' })]);
    expect(executions.executions.size).toBe(1);
    expect(memberships.peek('p-ada')).toEqual({ segments: { gold: EARLIER }, version: 2 });
  });

  it('reads the profile with its recent events when a segment in scope has an event condition', async () => {
    const { deps, memberships } = setup();
    const time = '2026-05-31T12:00:00.000Z';
    const withEvents = profile({}, { recentEvents: [{ id: 'o-1', type: 'order.placed', source: 'shop', time, receivedAt: time, properties: {} }] });
    const requested: unknown[] = [];
    deps.profiles = {
      get: async (id, options) => {
        requested.push([id, options]);
        return withEvents;
      },
    };
    const update = await updateSegments(deps, [], profile({}, { recentEvents: undefined }), ['recent-buyer'], cause);
    expect(requested).toEqual([['p-ada', { recentEvents: true }]]);
    expect(update.entered).toEqual(['recent-buyer']);
    expect(memberships.peek('p-ada').segments).toEqual({ 'recent-buyer': NOW });
  });
});

describe('routeBusinessEvent with segmentation', () => {
  /** 3 segments on tier (+ 1 referencing one of them), 1 on country, 2 on order.placed, 40 on unrelated attributes. */
  function catalog(): SegmentRecord[] {
    return [
      record('gold', { kind: 'equals', field: attr('tier'), value: 'gold' }),
      record('silver', { kind: 'equals', field: attr('tier'), value: 'silver' }),
      record('tiered', { kind: 'exists', field: attr('tier') }),
      record('gold-de', { kind: 'all', rules: [{ kind: 'segment', id: 'gold' }, { kind: 'equals', field: attr('country'), value: 'DE' }] }),
      record('recent-buyer', { kind: 'event', type: 'order.placed', within: '7d' }),
      record('big-spender', { kind: 'greater', field: { kind: 'computed', event: 'order.placed', stat: 'sum', property: 'total' }, value: 500 }),
      ...Array.from({ length: 40 }, (_, i) => record(`other-${i}`, { kind: 'equals', field: attr(`other${i}`), value: i })),
    ];
  }

  function setupRoute() {
    const clock = new FakeClock(NOW);
    const base = runtime([], clock);
    const memberships = new InMemoryMembershipStore();
    const deps = { ...base, segmentation: { segments: cachedSegmentCatalog(new InMemorySegmentStore(catalog()), clock), memberships } };
    return { ...base, deps, memberships };
  }

  const event = (overrides: Partial<BusinessEvent>) => businessEvent({ type: 'user.updated', ...overrides });

  it('evaluates only the segments reading what the event touched, and stores the memberships', async () => {
    const { deps, memberships, publisher } = setupRoute();

    const first = await routeBusinessEvent(deps, event({ id: 'e-1', attributes: { tier: 'gold' } }));
    // A profile never evaluated gets every segment once (46), so segments true of an empty profile are entered at once.
    expect(first.status === 'routed' && first.segments).toEqual({ evaluated: 46, entered: ['gold', 'tiered'], exited: [], entries: [], stopped: [] });
    const profileId = first.status === 'routed' ? first.profileId : '';
    expect(memberships.peek(profileId).segments).toEqual({ gold: NOW, tiered: NOW });
    expect(publisher.published.map((e) => [e.type, e.properties.segmentId])).toEqual([
      ['SegmentEntered', 'gold'],
      ['SegmentEntered', 'tiered'],
    ]);

    // From then on only what an event touches: country → gold-de.
    const second = await routeBusinessEvent(deps, event({ id: 'e-2', attributes: { country: 'DE' } }));
    expect(second.status === 'routed' && second.segments).toMatchObject({ evaluated: 1, entered: ['gold-de'] });

    const order = await routeBusinessEvent(deps, event({ id: 'e-3', type: 'order.placed', properties: { total: 10 } }));
    expect(order.status === 'routed' && order.segments?.evaluated).toBe(2);

    const untouched = await routeBusinessEvent(deps, event({ id: 'e-4', type: 'page.viewed', attributes: { nickname: 'ada' } }));
    expect(untouched.status === 'routed' && untouched.segments).toEqual({ evaluated: 0, entered: [], exited: [], entries: [], stopped: [] });
  });

  it('evaluates every segment after a merge', async () => {
    const { deps, profiles } = setupRoute();
    profiles.mergeNext = ['p-absorbed'];
    const result = await routeBusinessEvent(deps, event({ id: 'e-merge', type: 'page.viewed' }));
    expect(result.status === 'routed' && result.segments?.evaluated).toBe(catalog().length);
  });

  it("announces, for the survivor, the transitions an absorbed profile had stored but not announced before the merge", async () => {
    const { deps, profiles, memberships, publisher } = setupRoute();
    profiles.add({ id: 'p-survivor', identities: { email: 'ada@example.com' }, attributes: { tier: 'gold' } });
    await memberships.put('p-survivor', { gold: NOW, tiered: NOW }, 0);
    // The absorbed profile's last evaluation wrote its transition to the outbox and failed before announcing it.
    const pending = { entered: ['gold'], exited: [], cause: { id: 'e-old', type: 'user.updated' }, at: NOW };
    await memberships.put('p-absorbed', { gold: NOW, tiered: NOW }, 0, pending);
    profiles.mergeNext = ['p-absorbed'];

    await routeBusinessEvent(deps, event({ id: 'e-merge', type: 'page.viewed' }));

    expect(publisher.published.filter((e) => e.type === 'SegmentEntered').map((e) => [e.properties.profileId, e.properties.segmentId])).toEqual([['p-survivor', 'gold']]);
    expect(memberships.peek('p-survivor').pending).toBeUndefined();
    expect(memberships.peek('p-absorbed').segments).toEqual({});
  });

  it('starts a segment-entry journey from the event that qualified the profile', async () => {
    const goldWelcome = journeyRecord({ id: 'gold-welcome', entry: { kind: 'segment', segment: 'gold' } });
    const { deps, executions } = setupRoute();
    deps.journeys.records.push(goldWelcome);
    const result = await routeBusinessEvent(deps, event({ id: 'e-1', attributes: { tier: 'gold' } }));
    expect(result.status === 'routed' && result.segments?.entries).toEqual([expect.objectContaining({ status: 'started', journeyId: 'gold-welcome' })]);
    expect(executions.running().map((e) => e.stateMachineArn)).toEqual([goldWelcome.aliasArn]);
  });
});

describe('routeBusinessEvent with segmentation: a new profile', () => {
  it('enters a segment that holds for an empty profile on its first event, though the event touches nothing it reads', async () => {
    const clock = new FakeClock(NOW);
    const base = runtime([], clock);
    const memberships = new InMemoryMembershipStore();
    const quiet = { schemaVersion: 1 as const, id: 'no-tickets', name: 'No tickets', rule: { kind: 'not' as const, rule: { kind: 'event' as const, type: 'support.ticket', within: '30d' } } };
    const deps = { ...base, segmentation: { segments: cachedSegmentCatalog(new InMemorySegmentStore([{ definition: quiet, origin: 'api', version: 1, updatedAt: NOW }]), clock), memberships } };

    const first = await routeBusinessEvent(deps, businessEvent({ id: 'n-1', type: 'page.viewed' }));
    expect(first.status === 'routed' && first.segments).toMatchObject({ evaluated: 1, entered: ['no-tickets'] });
    // Evaluated once: the next unrelated event evaluates nothing.
    const second = await routeBusinessEvent(deps, businessEvent({ id: 'n-2', type: 'page.viewed' }));
    expect(second.status === 'routed' && second.segments).toMatchObject({ evaluated: 0, entered: [] });
  });
});
