import fc from 'fast-check';
import type { BusinessEvent } from '../../../lambdas/core/events/business-event';
import { applyEvent, emptyProfile, eventIdentities, newProfileId } from '../../../lambdas/core/profiles/merge-policy';
import { MemoryProfileStorage } from '../../../lambdas/core/profiles/memory-storage';
import { defaultProfilePolicy, ProfileLimits, type ProfilePolicy, type ProfileState } from '../../../lambdas/core/profiles/model';
import { ProfileContentionError } from '../../../lambdas/core/profiles/ingest';
import { GraphProfileStore } from '../../../lambdas/core/profiles/store';
import type { ProfileStorage } from '../../../lambdas/core/profiles/storage';
import { eventsArb } from './arbitraries';
import { chaosStorage, deliver, type Fault } from './chaos-storage';

const NOW = new Date('2026-01-05T12:00:00.000Z');
const clock = { now: () => NOW };
const policy: ProfilePolicy = { ...defaultProfilePolicy, sourcePriority: ['crm'] };

const storeOver = (storage: ProfileStorage) => new GraphProfileStore({ storage, clock, policy });

const event = (id: string, identities: Record<string, string>, over: Partial<BusinessEvent> = {}): BusinessEvent => ({
  id,
  type: 'order.placed',
  source: 'shop',
  time: '2026-01-01T10:00:00.000Z',
  identities,
  properties: {},
  ...over,
});

describe('ingesting events', () => {
  it('creates a profile named after the first identity, then finds it by any identity', async () => {
    const store = storeOver(new MemoryProfileStorage(clock.now));
    const out = await store.ingest(event('e1', { email: 'a@example.com', deviceId: 'd1' }, { attributes: { tier: 'gold' } }));
    expect(out).toMatchObject({ duplicate: false, merged: [] });
    expect(out.profile.id).toBe(newProfileId('deviceId', 'd1'));
    const found = await store.findByIdentity('email', 'a@example.com');
    expect(found).toMatchObject({ id: out.profile.id, attributes: { tier: 'gold' }, identities: { email: 'a@example.com', deviceId: 'd1' } });
    expect(found?.recentEvents?.map((e) => e.id)).toEqual(['e1']);
    expect(await store.findByIdentity('email', 'nobody@example.com')).toBeUndefined();
  });

  it('counts an event id once however often it is delivered', async () => {
    const store = storeOver(new MemoryProfileStorage(clock.now));
    const order = event('o1', { email: 'a@example.com' }, { properties: { total: 40 } });
    await store.ingest(order);
    const again = await store.ingest(order);
    expect(again.duplicate).toBe(true);
    expect(again.profile.computed?.['order.placed']).toMatchObject({ count: 1, sums: { total: 40 } });
  });

  it('merges two profiles an event links into the older one, and reads the absorbed id as the survivor', async () => {
    // The older profile is the one received first (receipt time, not the sender's event time).
    let now = new Date(NOW.getTime() - 3_600_000);
    const ticking = { now: () => now };
    const store = new GraphProfileStore({ storage: new MemoryProfileStorage(ticking.now), clock: ticking, policy });
    const device = await store.ingest(event('e1', { deviceId: 'd1' }, { time: '2026-01-01T08:00:00.000Z', properties: { total: 5 } }));
    now = NOW;
    const email = await store.ingest(event('e2', { email: 'a@example.com' }, { time: '2026-01-02T08:00:00.000Z', properties: { total: 7 } }));
    const login = await store.ingest(event('e3', { email: 'a@example.com', deviceId: 'd1' }, { type: 'app.login', time: '2026-01-03T08:00:00.000Z' }));
    expect(login.merged).toEqual([email.profile.id]);
    expect(login.profile.id).toBe(device.profile.id);
    const absorbed = await store.get(email.profile.id);
    expect(absorbed).toMatchObject({ id: device.profile.id, identities: { email: 'a@example.com', deviceId: 'd1' } });
    expect(absorbed?.computed?.['order.placed']).toMatchObject({ count: 2, sums: { total: 12 } });
    expect(absorbed?.recentEvents?.map((e) => e.id)).toEqual(['e3', 'e2', 'e1']);
  });

  it('keeps the profile received first as the survivor, and its email as primary, against an event dated 1970', async () => {
    let now = new Date('2026-01-05T12:00:00.000Z');
    const store = new GraphProfileStore({ storage: new MemoryProfileStorage(() => now), clock: { now: () => now }, policy });
    const first = await store.ingest(event('e1', { email: 'ann@example.com', crmId: 'c1' }, { time: '2026-01-05T11:00:00.000Z' }));
    now = new Date('2026-01-05T13:00:00.000Z');
    const old = await store.ingest(event('e2', { email: 'mallory@example.com', deviceId: 'd1' }, { time: '1970-01-01T00:00:00.000Z' }));
    now = new Date('2026-01-05T14:00:00.000Z');
    const link = await store.ingest(event('e3', { crmId: 'c1', deviceId: 'd1' }, { type: 'app.login', time: '2026-01-05T14:00:00.000Z' }));
    expect(link.merged).toEqual([old.profile.id]);
    expect(link.profile).toMatchObject({ id: first.profile.id, identities: { email: 'ann@example.com' } });
  });

  it('redelivers an event already applied to a profile that was then absorbed without counting it again', async () => {
    const store = storeOver(new MemoryProfileStorage(clock.now));
    const order = event('o1', { email: 'a@example.com' }, { properties: { total: 40 } });
    await store.ingest(event('e0', { deviceId: 'd1' }, { time: '2025-12-01T00:00:00.000Z' }));
    await store.ingest(order);
    await store.ingest(event('link', { email: 'a@example.com', deviceId: 'd1' }, { type: 'app.login' }));
    const again = await store.ingest(order);
    expect(again.duplicate).toBe(true);
    expect(again.profile.computed?.['order.placed']).toMatchObject({ count: 2, sums: { total: 40 } });
  });

  it('applies a late event with an older time without overwriting newer attribute values', async () => {
    const store = storeOver(new MemoryProfileStorage(clock.now));
    await store.ingest(event('new', { email: 'a@example.com' }, { time: '2026-01-02T00:00:00.000Z', attributes: { tier: 'gold' } }));
    const late = await store.ingest(event('old', { email: 'a@example.com' }, { time: '2026-01-01T00:00:00.000Z', attributes: { tier: 'silver', city: 'Oslo' } }));
    expect(late.profile.attributes).toEqual({ tier: 'gold', city: 'Oslo' });
    expect(late.profile.computed?.['order.placed']).toMatchObject({ count: 2, firstSeen: '2026-01-01T00:00:00.000Z', lastSeen: '2026-01-02T00:00:00.000Z' });
  });

  it('applies a redelivery after a crash between recording the event and applying it', async () => {
    const memory = new MemoryProfileStorage(clock.now);
    const store = storeOver(memory);
    await store.ingest(event('e0', { email: 'a@example.com' }));
    const profileId = newProfileId('email', 'a@example.com');
    const crashed = event('o1', { email: 'a@example.com' }, { properties: { total: 40 } });
    // Crash: the record is written, the profile update never happens.
    const faults = new Map<number, Fault>([[2, 'before']]);
    await expect(storeOver(chaosStorage(memory, undefined, faults)).ingest(crashed)).rejects.toThrow('failed before reaching the store');
    expect(await memory.readEvent(profileId, 'o1')).toBeDefined();
    const retried = await store.ingest(crashed);
    expect(retried.duplicate).toBe(false);
    expect(retried.profile.computed?.['order.placed']).toMatchObject({ count: 2, sums: { total: 40 } });
  });
});

describe('redelivery from the dead-letter queue (queue retention 14 days)', () => {
  const DAY = 86_400_000;
  /** A clock the test moves forward, as the dead-letter queue's redrive 13 days later would find it. */
  const movingClock = () => {
    let now = NOW.getTime();
    return { now: () => new Date(now), advance: (ms: number) => (now += ms) };
  };

  it('applies an event redriven 13 days after it failed between recording it and writing the profile', async () => {
    const time = movingClock();
    const memory = new MemoryProfileStorage(time.now);
    const store = new GraphProfileStore({ storage: memory, clock: time, policy });
    await store.ingest(event('e0', { email: 'a@example.com' }));
    const order = event('o1', { email: 'a@example.com' }, { properties: { total: 40 } });
    // Every delivery fails at the profile write (after the record is written): the event goes to the dead-letter queue.
    await expect(new GraphProfileStore({ storage: chaosStorage(memory, undefined, new Map([[2, 'before']])), clock: time, policy }).ingest(order)).rejects.toThrow();
    time.advance(13 * DAY);
    const redriven = await store.ingest(order);
    expect(redriven.duplicate).toBe(false);
    expect(redriven.profile.computed?.['order.placed']).toMatchObject({ count: 2, sums: { total: 40 } });
    const again = await store.ingest(order);
    expect(again).toMatchObject({ duplicate: true, profile: { computed: { 'order.placed': { count: 2, sums: { total: 40 } } } } });
  });

  it('drops as a duplicate an event redriven 13 days after it was applied, however many events came between', async () => {
    const time = movingClock();
    const memory = new MemoryProfileStorage(time.now);
    const store = new GraphProfileStore({ storage: memory, clock: time, policy });
    const order = event('o1', { email: 'a@example.com' }, { properties: { total: 40 } });
    await store.ingest(order);
    for (let i = 0; i < 300; i++) {
      time.advance(3_600_000);
      await store.ingest(event(`v${i}`, { email: 'a@example.com' }, { type: 'page.viewed', time: time.now().toISOString() }));
    }
    time.advance(13 * DAY);
    const redriven = await store.ingest(order);
    expect(redriven.duplicate).toBe(true);
    expect(redriven.profile.computed?.['order.placed']).toMatchObject({ count: 1, sums: { total: 40 } });
  });

  it('keeps the one-write increment path for a busy profile while its pending ids are flushed', async () => {
    const time = movingClock();
    const memory = new MemoryProfileStorage(time.now);
    const calls = { readEvent: 0, flushes: 0 };
    const counted: ProfileStorage = Object.assign(Object.create(memory) as MemoryProfileStorage, {
      readEvent: (profileId: string, eventId: string) => (calls.readEvent++, memory.readEvent(profileId, eventId)),
      replaceProfile: (state: ProfileState, version: number) => (calls.flushes++, memory.replaceProfile(state, version)),
    });
    const store = new GraphProfileStore({ storage: counted, clock: time, policy });
    for (let i = 0; i < 200; i++) {
      time.advance(5_000);
      await store.ingest(event(`b${i}`, { email: 'busy@example.com' }, { type: 'page.viewed', time: time.now().toISOString() }));
    }
    // Every profile write but the flushes went through the increment path: no event needed the read path.
    expect(calls.readEvent).toBe(0);
    expect(calls.flushes).toBeGreaterThan(0);
    expect(calls.flushes).toBeLessThanOrEqual(200 / ProfileLimits.pendingFlushAt);
  });

  it('drops as a duplicate an event redriven 13 days after a crash that followed its profile write', async () => {
    const time = movingClock();
    const memory = new MemoryProfileStorage(time.now);
    const store = new GraphProfileStore({ storage: memory, clock: time, policy });
    await store.ingest(event('e0', { email: 'a@example.com' }));
    const order = event('o1', { email: 'a@example.com' }, { properties: { total: 40 } });
    // The profile write happens, its answer is lost: the delivery fails and the event goes to the dead-letter queue.
    await expect(new GraphProfileStore({ storage: chaosStorage(memory, undefined, new Map([[2, 'after']])), clock: time, policy }).ingest(order)).rejects.toThrow();
    time.advance(13 * DAY);
    const redriven = await store.ingest(order);
    expect(redriven.duplicate).toBe(true);
    expect(redriven.profile.computed?.['order.placed']).toMatchObject({ count: 2, sums: { total: 40 } });
  });
});

/** Every identity's live profile, following the identity item and then merge pointers, as a reader would. */
function liveProfileOf(memory: MemoryProfileStorage, identity: string): ProfileState | undefined {
  let id = memory.identities.get(identity);
  for (let hops = 0; id !== undefined && hops < 100; hops++) {
    const state = memory.profiles.get(id);
    if (!state || state.status === 'active') return state;
    id = state.mergedInto;
  }
  return undefined;
}

const key = (namespace: string, value: string) => `${namespace}\u0000${value}`;

/** Connected components of the identities events link, each with its events. */
function components(events: BusinessEvent[]): { identities: Set<string>; events: BusinessEvent[] }[] {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    while (parent.get(x) !== x) x = parent.get(x)!;
    return x;
  };
  for (const e of events) {
    const ids = eventIdentities(e).map(([ns, v]) => key(ns, v));
    for (const id of ids) if (!parent.has(id)) parent.set(id, id);
    for (const id of ids.slice(1)) parent.set(find(id), find(ids[0]));
  }
  const groups = new Map<string, { identities: Set<string>; events: BusinessEvent[] }>();
  for (const id of parent.keys()) {
    const root = find(id);
    if (!groups.has(root)) groups.set(root, { identities: new Set(), events: [] });
    groups.get(root)!.identities.add(id);
  }
  for (const e of events) groups.get(find(key(...eventIdentities(e)[0])))!.events.push(e);
  return [...groups.values()];
}

const listed = (state: ProfileState) => new Set(Object.entries(state.identities).flatMap(([ns, values]) => Object.keys(values).map((v) => key(ns, v))));

async function checkGraph(memory: MemoryProfileStorage, events: BusinessEvent[]): Promise<void> {
  const groups = components(events);
  const live = [...memory.profiles.values()].filter((p) => p.status === 'active');
  // One live profile per component, holding exactly the component's identities: none lost, none claimed twice.
  expect(live.map((p) => [...listed(p)].sort()).sort()).toEqual(groups.map((g) => [...g.identities].sort()).sort());
  const store = storeOver(memory);
  for (const group of groups) {
    const owners = new Set([...group.identities].map((identity) => liveProfileOf(memory, identity)?.id));
    expect(owners.size).toBe(1);
    const [ownerId] = owners;
    expect(ownerId).toBeDefined();
    const owner = memory.profiles.get(ownerId!)!;
    // The profile holds what one profile that saw the component's events (each id once) would hold.
    const expected = group.events.reduce((state, e) => applyEvent(state, e, NOW, policy).state, emptyProfile(owner.id, owner.createdAt));
    for (const field of ['identities', 'attributes', 'attributeTimes', 'attributeSources', 'consent', 'computed'] as const) {
      expect({ field, value: owner[field] }).toEqual({ field, value: expected[field] });
    }
    const window = (await store.get(owner.id))?.recentEvents?.map((e) => e.id).sort();
    expect(window).toEqual(group.events.map((e) => e.id).sort());
  }
  // Every absorbed profile's data is held by exactly one profile.
  for (const absorbed of [...memory.profiles.values()].filter((p) => p.status !== 'active')) {
    expect([...memory.profiles.values()].filter((p) => p.absorbed.includes(absorbed.id) && !p.absorbed.includes(p.mergedInto ?? '')).length).toBeGreaterThan(0);
  }
}

describe('identity graph under concurrency and retries', () => {
  const faultsArb = fc.dictionary(
    fc.integer({ min: 0, max: 200 }).map(String),
    fc.constantFrom<Fault>('before', 'after'),
    { maxKeys: 6 },
  ).map((d) => new Map(Object.entries(d).map(([k, v]) => [Number(k), v])));

  it('partitions identities into the connected components of the links, whatever the interleaving, retries and duplicates', async () => {
    await fc.assert(
      fc.asyncProperty(
        eventsArb({ minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 3 }),
        faultsArb,
        fc.scheduler(),
        async (events, duplicates, faults, scheduler) => {
          const memory = new MemoryProfileStorage(clock.now);
          const store = storeOver(chaosStorage(memory, scheduler, faults));
          const deliveries = [...events, ...duplicates.map((i) => events[i % events.length])];
          const outcomes = Promise.all(deliveries.map((e) => deliver(() => store.ingest(e))));
          await scheduler.waitIdle();
          await outcomes;
          await checkGraph(memory, events);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('counts a redelivered event once when it races the merge of its profile, in every interleaving', async () => {
    const survivorFirst = event('e0', { deviceId: 'd1' }, { time: '2025-12-20T00:00:00.000Z', properties: { total: 1 } });
    const order = event('o1', { email: 'a@example.com' }, { properties: { total: 40 } });
    const link = event('link', { email: 'a@example.com', deviceId: 'd1' }, { type: 'app.login' });
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), faultsArb, async (scheduler, faults) => {
        const memory = new MemoryProfileStorage(clock.now);
        await storeOver(memory).ingest(survivorFirst);
        await storeOver(memory).ingest(order);
        const store = storeOver(chaosStorage(memory, scheduler, faults));
        const outcomes = Promise.all([link, order, order].map((e) => deliver(() => store.ingest(e))));
        await scheduler.waitIdle();
        await outcomes;
        await checkGraph(memory, [survivorFirst, order, link]);
      }),
      { numRuns: 300 },
    );
  });

  it('applies each event once when enough events arrive to flush the pending ids, whatever the interleaving, retries and duplicates', async () => {
    await fc.assert(
      fc.asyncProperty(
        eventsArb({ minLength: ProfileLimits.pendingFlushAt + 4, maxLength: 2 * ProfileLimits.pendingFlushAt + 8 }),
        fc.array(fc.nat(), { minLength: 4, maxLength: 12 }),
        faultsArb,
        fc.scheduler(),
        async (events, duplicates, faults, scheduler) => {
          const memory = new MemoryProfileStorage(clock.now);
          const store = storeOver(chaosStorage(memory, scheduler, faults));
          const deliveries = [...events, ...duplicates.map((i) => events[i % events.length])];
          // Dozens of concurrent writers on one profile may exhaust an ingestion's attempts: Lambda retries those too.
          const outcomes = Promise.all(deliveries.map((e) => deliver(() => deliver(() => store.ingest(e)), 5, ProfileContentionError)));
          await scheduler.waitIdle();
          await outcomes;
          await checkGraph(memory, events);
          // Redelivered later, every event is a duplicate.
          for (const e of events) expect((await storeOver(memory).ingest(e)).duplicate).toBe(true);
          await checkGraph(memory, events);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('converges to the same partition when each event is delivered in sequence, in any order', async () => {
    await fc.assert(
      fc.asyncProperty(eventsArb({ minLength: 1, maxLength: 10 }).chain((events) => fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length })), async (events) => {
        const memory = new MemoryProfileStorage(clock.now);
        const store = storeOver(memory);
        for (const e of events) await store.ingest(e);
        await checkGraph(memory, events);
      }),
      { numRuns: 200 },
    );
  });
});
