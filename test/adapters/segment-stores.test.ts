import { BatchWriteCommand, DynamoDBDocumentClient, GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createDynamoProfileStore } from '../../lambdas/adapters/dynamodb-profiles';
import {
  DynamoMembershipStore,
  DynamoProfileScanner,
  segmentStore,
  DynamoSnapshotStore,
  SnapshotNotFoundError,
} from '../../lambdas/adapters/dynamodb-segments';
import type { BusinessEvent } from '../../lambdas/core/events/business-event';
import type { Profile } from '../../lambdas/core/runtime/ports';
import type { SegmentRecord, SnapshotHeader } from '../../lambdas/core/segments/ports';
import type { SegmentDefinition } from '../../lambdas/core/segments/rule';
import { startDynalite, type LocalDynamo } from '../../lambdas/local/dynalite';

const PROFILES = 'profiles';
const JOURNEYS = 'journeys';
const RUNTIME = 'runtime';
/** The scanner gets a table of its own: the other tests leave membership items without profiles in `profiles`. */
const SCAN_PROFILES = 'scan-profiles';

const NOW = new Date('2026-01-05T12:00:00.000Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let dynamo: LocalDynamo;
let db: DynamoDBDocumentClient;

beforeAll(async () => {
  dynamo = await startDynalite([PROFILES, JOURNEYS, RUNTIME, SCAN_PROFILES]);
  db = DynamoDBDocumentClient.from(dynamo.client, { marshallOptions: { removeUndefinedValues: true } });
});

afterAll(async () => {
  await dynamo?.stop();
});

const definition = (id: string, over: Partial<SegmentDefinition> = {}): SegmentDefinition => ({
  schemaVersion: 1,
  id,
  name: `Segment ${id}`,
  rule: {
    kind: 'any',
    rules: [
      { kind: 'equals', field: { kind: 'attribute', name: 'loyaltyTier' }, value: 'gold' },
      { kind: 'greater', field: { kind: 'computed', event: 'order.placed', stat: 'sum', property: 'total' }, value: 1000.5 },
    ],
  },
  ...over,
});

const record = (id: string, version: number, over: Partial<SegmentRecord> = {}): SegmentRecord => ({
  definition: definition(id),
  origin: 'api',
  version,
  updatedAt: new Date(NOW.getTime() + version * 1000).toISOString(),
  ...over,
});

describe('segment store (DynamoCatalogStore)', () => {
  const segments = () => segmentStore(db, JOURNEYS);

  it('creates a segment only when its id is free, and reads it back as written', async () => {
    const store = segments();
    const first = record('vip', 1, { origin: 'file', definition: definition('vip', { description: 'Very important' }) });
    expect(await store.put(first, {})).toBe(true);
    expect(await store.put(record('vip', 1, { definition: definition('vip', { name: 'Other' }) }), {})).toBe(false);
    expect(await store.get('vip')).toEqual(first);
    expect(await store.get('nobody')).toBeUndefined();
  });

  it('drops undefined optional fields of a definition instead of failing to write it', async () => {
    const store = segments();
    expect(await store.put(record('plain', 1, { definition: definition('plain', { description: undefined }) }), {})).toBe(true);
    expect((await store.get('plain'))!.definition).toEqual(definition('plain'));
    expect('description' in (await store.get('plain'))!.definition).toBe(false);
  });

  it('replaces a segment only at the expected version; force writes regardless', async () => {
    const store = segments();
    await store.put(record('versioned', 1), {});
    expect(await store.put(record('versioned', 2, { definition: definition('versioned', { name: 'Second' }) }), { expectedVersion: 1 })).toBe(true);
    // A writer that still holds version 1 loses, and changes nothing.
    expect(await store.put(record('versioned', 2, { definition: definition('versioned', { name: 'Stale' }) }), { expectedVersion: 1 })).toBe(false);
    expect(await store.get('versioned')).toMatchObject({ version: 2, definition: { name: 'Second' } });
    // An expected version of a segment that does not exist fails too.
    expect(await store.put(record('missing', 2), { expectedVersion: 1 })).toBe(false);
    expect(await store.get('missing')).toBeUndefined();
    // Deployments force.
    expect(await store.put(record('versioned', 7, { origin: 'file' }), { force: true })).toBe(true);
    expect(await store.get('versioned')).toMatchObject({ version: 7, origin: 'file', definition: { name: 'Segment versioned' } });
    expect(await store.put(record('forced-new', 1), { force: true })).toBe(true);
    expect(await store.get('forced-new')).toEqual(record('forced-new', 1));
  });

  it('lists every segment in id order, and nothing else of the journeys table', async () => {
    const store = segments();
    for (const id of ['list-c', 'list-a', 'list-b']) await store.put(record(id, 1), { force: true });
    const ids = (await store.list()).map((r) => r.definition.id);
    expect(ids).toEqual([...ids].sort());
    expect(ids).toEqual(expect.arrayContaining(['list-a', 'list-b', 'list-c', 'vip']));
    expect((await store.list()).find((r) => r.definition.id === 'list-b')).toEqual(record('list-b', 1));
  });

  it('deletes a segment once: false when it did not exist', async () => {
    const store = segments();
    await store.put(record('doomed', 1), {});
    expect(await store.delete('doomed')).toBe(true);
    expect(await store.get('doomed')).toBeUndefined();
    expect(await store.delete('doomed')).toBe(false);
    expect(await store.delete('never-was')).toBe(false);
  });
});

describe('DynamoMembershipStore', () => {
  const memberships = () => new DynamoMembershipStore(db, PROFILES);

  it('reads nothing written as no memberships at version 0', async () => {
    expect(await memberships().get('nobody')).toEqual({ segments: {}, version: 0 });
  });

  it('writes only at the expected version, each write one version up', async () => {
    const store = memberships();
    expect(await store.put('m-1', { vip: '2026-01-01T00:00:00.000Z' }, 0)).toBe(true);
    expect(await store.get('m-1')).toEqual({ segments: { vip: '2026-01-01T00:00:00.000Z' }, version: 1 });
    // Created already: a second first write loses.
    expect(await store.put('m-1', { other: '2026-01-02T00:00:00.000Z' }, 0)).toBe(false);
    expect(await store.put('m-1', { vip: '2026-01-01T00:00:00.000Z', gold: '2026-01-03T00:00:00.000Z' }, 1)).toBe(true);
    expect(await store.put('m-1', {}, 1)).toBe(false);
    expect(await store.put('m-1', {}, 5)).toBe(false);
    expect(await store.get('m-1')).toEqual({ segments: { vip: '2026-01-01T00:00:00.000Z', gold: '2026-01-03T00:00:00.000Z' }, version: 2 });
    // Leaving every segment is a write like any other.
    expect(await store.put('m-1', {}, 2)).toBe(true);
    expect(await store.get('m-1')).toEqual({ segments: {}, version: 3 });
  });

  it('keeps a membership of a segment whose id is named like an Object.prototype member (`constructor`)', async () => {
    const store = memberships();
    expect(await store.put('m-ctor', { constructor: '2026-01-01T00:00:00.000Z', vip: '2026-01-02T00:00:00.000Z' }, 0)).toBe(true);
    const { segments } = await store.get('m-ctor');
    expect(Object.entries(segments)).toEqual([['constructor', '2026-01-01T00:00:00.000Z'], ['vip', '2026-01-02T00:00:00.000Z']]);
  });

  it('lets exactly one of 20 concurrent writers at the same version win, from nothing and from a written state', async () => {
    const store = memberships();
    for (const [profileId, expected] of [
      ['race-new', 0],
      ['race-held', 4],
    ] as const) {
      for (let v = 0; v < expected; v++) await store.put(profileId, { seed: `2026-01-01T00:00:0${v}.000Z` }, v);
      const writes = Array.from({ length: 20 }, (_, i) => ({ [`segment-${i}`]: `2026-01-04T00:00:${String(i).padStart(2, '0')}.000Z` }));
      const results = await Promise.all(writes.map((segments) => store.put(profileId, segments, expected)));
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = writes[results.indexOf(true)];
      expect(await store.get(profileId)).toEqual({ segments: winner, version: expected + 1 });
    }
  });

  it('keeps memberships in the profile partition, so erasing the profile erases them', async () => {
    const profiles = createDynamoProfileStore(db, PROFILES, { clock: { now: () => NOW } });
    const { profile } = await profiles.ingest({ id: 'erase-1', type: 'app.login', source: 'app', time: NOW.toISOString(), identities: { email: 'erase@example.com' }, properties: {} });
    const store = memberships();
    expect(await store.put(profile.id, { vip: NOW.toISOString() }, 0)).toBe(true);
    const { Item } = await db.send(new GetCommand({ TableName: PROFILES, Key: { pk: `PROFILE#${profile.id}`, sk: 'SEGMENTS' } }));
    expect(Item).toMatchObject({ segments: { vip: NOW.toISOString() }, version: 1 });
    // The profile store still reads the profile as before: the memberships item is not an event.
    expect((await profiles.get(profile.id))!.recentEvents!.map((e) => e.id)).toEqual(['erase-1']);
    await profiles.erase(profile.id);
    expect(await store.get(profile.id)).toEqual({ segments: {}, version: 0 });
  });
});

describe('DynamoSnapshotStore', () => {
  const snapshots = () => new DynamoSnapshotStore(db, RUNTIME);
  const header = (id: string, over: Partial<SnapshotHeader> = {}): SnapshotHeader => ({
    id,
    segmentId: 'vip',
    segmentVersion: 3,
    status: 'running',
    createdAt: NOW.toISOString(),
    ...over,
  });
  const expiresAt = Math.floor(NOW.getTime() / 1000) + 7 * 86_400;
  const ids = (n: number, prefix = 'p') => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(4, '0')}`);

  async function allPages(store: DynamoSnapshotStore, id: string, limit: number) {
    const pages: { profileIds: string[]; cursor?: string }[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.members(id, { limit, cursor });
      pages.push(page);
      cursor = page.cursor;
    } while (cursor !== undefined && pages.length < 100);
    return pages;
  }

  it('creates a header once (a retried create leaves it), expiring 7 days after creation', async () => {
    const store = snapshots();
    await store.create(header('snap-h'));
    await store.create(header('snap-h', { segmentVersion: 99, createdAt: '2026-02-01T00:00:00.000Z' }));
    expect(await store.get('snap-h')).toEqual(header('snap-h'));
    const { Item } = await db.send(new GetCommand({ TableName: RUNTIME, Key: { pk: 'SNAPSHOT#snap-h', sk: 'HEADER' } }));
    expect(Item!.expiresAt).toBe(expiresAt);
    expect(await store.get('snap-none')).toBeUndefined();
  });

  it('adds members idempotently, each expiring with its snapshot, and counts them', async () => {
    const store = snapshots();
    await store.create(header('snap-a'));
    const members = ids(120);
    // Duplicates within one call and across calls (a retried worker) are stored once.
    await store.addMembers('snap-a', [...members.slice(0, 70), ...members.slice(0, 10)]);
    await store.addMembers('snap-a', members.slice(50));
    await store.addMembers('snap-a', members.slice(100, 110));
    await store.addMembers('snap-a', []);
    expect(await store.countMembers('snap-a')).toBe(120);
    const { Item } = await db.send(new GetCommand({ TableName: RUNTIME, Key: { pk: 'SNAPSHOT#snap-a', sk: 'MEMBER#p-0042' } }));
    expect(Item).toMatchObject({ profileId: 'p-0042', expiresAt });
    // A fresh store instance (another worker) reads the expiry from the header.
    await snapshots().addMembers('snap-a', ['p-late']);
    const late = await db.send(new GetCommand({ TableName: RUNTIME, Key: { pk: 'SNAPSHOT#snap-a', sk: 'MEMBER#p-late' } }));
    expect(late.Item!.expiresAt).toBe(expiresAt);
    expect(await store.countMembers('snap-a')).toBe(121);
  });

  it('pages members in profile-id order with a cursor: 120 members, 50 at a time', async () => {
    const store = snapshots();
    await store.create(header('snap-p'));
    const members = ids(120);
    await store.addMembers('snap-p', [...members].reverse());
    const pages = await allPages(store, 'snap-p', 50);
    expect(pages.map((p) => p.profileIds.length)).toEqual([50, 50, 20]);
    expect(pages[2].cursor).toBeUndefined();
    expect(pages.flatMap((p) => p.profileIds)).toEqual(members);
    // A cursor continues where its page ended, however often it is used.
    expect((await store.members('snap-p', { limit: 3, cursor: pages[0].cursor })).profileIds).toEqual(members.slice(50, 53));
    // Only members: the header is not one.
    expect(await store.countMembers('snap-p')).toBe(120);
  });

  it('ends on a full last page without a cursor to an empty page', async () => {
    const store = snapshots();
    await store.create(header('snap-even'));
    await store.addMembers('snap-even', ids(100));
    const pages = await allPages(store, 'snap-even', 50);
    expect(pages.map((p) => [p.profileIds.length, p.cursor === undefined])).toEqual([
      [50, false],
      [50, true],
    ]);
    expect(await store.members('snap-empty', { limit: 50 })).toEqual({ profileIds: [] });
    expect(await store.countMembers('snap-empty')).toBe(0);
    await expect(store.members('snap-even', { limit: 50, cursor: 'not a cursor!' })).rejects.toMatchObject({ name: 'InvalidCursorError' });
  });

  it('completes or fails the header', async () => {
    const store = snapshots();
    await store.create(header('snap-done'));
    await store.complete('snap-done', { count: 120, scanned: 4000, completedAt: '2026-01-05T12:05:00.000Z' });
    expect(await store.get('snap-done')).toEqual(header('snap-done', { status: 'complete', count: 120, scanned: 4000, completedAt: '2026-01-05T12:05:00.000Z' }));
    await store.create(header('snap-failed'));
    await store.fail('snap-failed', 'segment vip was deleted', '2026-01-05T12:01:00.000Z');
    expect(await store.get('snap-failed')).toEqual(header('snap-failed', { status: 'failed', error: 'segment vip was deleted', completedAt: '2026-01-05T12:01:00.000Z' }));
    // The header keeps its expiry through the updates.
    const { Item } = await db.send(new GetCommand({ TableName: RUNTIME, Key: { pk: 'SNAPSHOT#snap-done', sk: 'HEADER' } }));
    expect(Item!.expiresAt).toBe(expiresAt);
  });

  it('refuses members, completion and failure of a snapshot that does not exist', async () => {
    const store = snapshots();
    await expect(store.addMembers('snap-ghost', ['p-1'])).rejects.toBeInstanceOf(SnapshotNotFoundError);
    await expect(store.complete('snap-ghost', { count: 0, scanned: 0, completedAt: NOW.toISOString() })).rejects.toBeInstanceOf(SnapshotNotFoundError);
    await expect(store.fail('snap-ghost', 'boom', NOW.toISOString())).rejects.toBeInstanceOf(SnapshotNotFoundError);
    expect(await store.get('snap-ghost')).toBeUndefined();
    expect(await store.countMembers('snap-ghost')).toBe(0);
  });

  it('writes in batches of 25 and retries the items DynamoDB returns unprocessed', async () => {
    const batches: number[] = [];
    let throttle = 2;
    // Passes every command through, but the first two BatchWriteItems write only part of their items.
    const flaky = {
      send: async (command: unknown) => {
        if (!(command instanceof BatchWriteCommand)) return db.send(command as never);
        const requests = command.input.RequestItems![RUNTIME];
        batches.push(requests.length);
        if (throttle-- <= 0) return db.send(command);
        const [written, unprocessed] = [requests.slice(0, 4), requests.slice(4)];
        await db.send(new BatchWriteCommand({ RequestItems: { [RUNTIME]: written } }));
        return { UnprocessedItems: { [RUNTIME]: unprocessed } };
      },
    } as unknown as DynamoDBDocumentClient;
    const store = new DynamoSnapshotStore(flaky, RUNTIME, { baseDelayMs: 1 });
    await store.create(header('snap-retry'));
    await store.addMembers('snap-retry', ids(60));
    expect(batches).toEqual([25, 21, 17, 25, 10]);
    expect(await store.countMembers('snap-retry')).toBe(60);
    expect((await allPages(store, 'snap-retry', 1000))[0].profileIds).toEqual(ids(60));
  });

  it('gives up when items stay unprocessed', async () => {
    const stuck = {
      send: async (command: unknown) => {
        if (!(command instanceof BatchWriteCommand)) return db.send(command as never);
        return { UnprocessedItems: command.input.RequestItems };
      },
    } as unknown as DynamoDBDocumentClient;
    const store = new DynamoSnapshotStore(stuck, RUNTIME, { baseDelayMs: 1, maxBatchAttempts: 3 });
    await store.create(header('snap-stuck'));
    await expect(store.addMembers('snap-stuck', ['p-1'])).rejects.toThrow(/1 items still unprocessed after 3/);
  });
});

describe('DynamoProfileScanner', () => {
  const clock = { now: () => NOW };
  const profiles = () => createDynamoProfileStore(db, SCAN_PROFILES, { clock });
  let active: string[];
  let absorbed: string[];
  let survivor: string;

  const event = (id: string, identities: Record<string, string>, hoursAgo: number, over: Partial<BusinessEvent> = {}): BusinessEvent => ({
    id,
    type: 'page.viewed',
    source: 'web',
    time: new Date(NOW.getTime() - hoursAgo * HOUR).toISOString(),
    identities,
    properties: {},
    ...over,
  });

  beforeAll(async () => {
    const store = profiles();
    const seen = new Set<string>();
    const merged = new Set<string>();
    const ingest = async (e: BusinessEvent) => {
      const result = await store.ingest(e);
      seen.add(result.profile.id);
      for (const id of result.merged) merged.add(id);
      return result;
    };
    for (let i = 0; i < 60; i++) {
      const identities = { email: `user${i}@example.com` };
      for (let n = 0; n <= i % 5; n++) {
        await ingest(event(`u${i}-e${n}`, identities, i + n * 7, { type: n % 2 ? 'order.placed' : 'page.viewed', properties: { n, total: 10 * n }, ...(n === 0 ? { attributes: { index: i } } : {}) }));
      }
    }
    // One event received (and expiring) long ago: left out of the window.
    const past = createDynamoProfileStore(db, SCAN_PROFILES, { clock: { now: () => new Date(NOW.getTime() - 45 * DAY) } });
    await past.ingest(event('u3-old', { email: 'user3@example.com' }, 45 * 24));
    // One whose time is recent but whose record has expired (TTL has not deleted it yet): left out too.
    await past.ingest(event('u5-expired', { email: 'user5@example.com' }, 2));
    // A merged pair: the device's profile and the email's profile become one.
    await ingest(event('m-device', { deviceId: 'device-m' }, 30));
    await ingest(event('m-email', { email: 'merged@example.com' }, 20, { attributes: { tier: 'gold' } }));
    const link = await ingest(event('m-link', { email: 'merged@example.com', deviceId: 'device-m' }, 10, { type: 'app.login' }));
    survivor = link.profile.id;
    absorbed = [...merged];
    active = [...seen].filter((id) => !merged.has(id)).sort();
    // Memberships of a few profiles, stored in their partitions.
    const memberships = new DynamoMembershipStore(db, SCAN_PROFILES);
    for (const id of active.slice(0, 5)) await memberships.put(id, { vip: NOW.toISOString() }, 0);
  });

  /** Every page of every segment; fails on a profile seen twice. */
  async function scanAll(scanner: DynamoProfileScanner, totalSegments: number, limit: number) {
    const byId = new Map<string, Profile>();
    let pages = 0;
    let itemsRead = 0;
    for (let segment = 0; segment < totalSegments; segment++) {
      let cursor: string | undefined;
      do {
        const page = await scanner.scan({ segment, totalSegments, cursor, limit });
        pages++;
        itemsRead += page.itemsRead;
        expect(page.profiles.length).toBeLessThanOrEqual(limit);
        for (const profile of page.profiles) {
          expect(byId.has(profile.id)).toBe(false);
          byId.set(profile.id, profile);
        }
        cursor = page.cursor;
        if (pages > 500) throw new Error('the scan does not end');
      } while (cursor !== undefined);
    }
    return { byId, pages, itemsRead };
  }

  async function tableItems(): Promise<number> {
    let count = 0;
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await db.send(new ScanCommand({ TableName: SCAN_PROFILES, Select: 'COUNT', ExclusiveStartKey }));
      count += page.Count ?? 0;
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return count;
  }

  it('has the data the scan is about', () => {
    expect(active).toHaveLength(61);
    expect(absorbed).toHaveLength(1);
    expect(active).toContain(survivor);
  });

  it.each([
    ['Scan pages that end mid-profile', { scanPageItems: 5 }],
    ['Scan pages of one item', { scanPageItems: 1 }],
    ['the default Scan page', {}],
  ])('returns every active profile exactly once, as the profile store reads it, over 4 segments 7 at a time (%s)', async (_, options) => {
    const scanner = new DynamoProfileScanner(db, SCAN_PROFILES, clock, options);
    const { byId, pages, itemsRead } = await scanAll(scanner, 4, 7);
    expect([...byId.keys()].sort()).toEqual(active);
    for (const id of absorbed) expect(byId.has(id)).toBe(false);
    expect(pages).toBeGreaterThanOrEqual(Math.ceil(61 / 7));
    expect(itemsRead).toBeGreaterThanOrEqual(await tableItems());
    const store = profiles();
    const withSegments = new Set(active.slice(0, 5));
    for (const id of active) {
      const read = await store.get(id);
      expect(byId.get(id)).toEqual(withSegments.has(id) ? { ...read, segments: { vip: NOW.toISOString() } } : read);
    }
  });

  it('assembles each profile with its recent events, newest first, without expired ones', async () => {
    const { byId } = await scanAll(new DynamoProfileScanner(db, SCAN_PROFILES, clock, { scanPageItems: 3 }), 4, 7);
    const user = (i: number) => [...byId.values()].find((p) => p.identities.email === `user${i}@example.com`)!;
    expect(user(4).recentEvents!.map((e) => e.id)).toEqual(['u4-e0', 'u4-e1', 'u4-e2', 'u4-e3', 'u4-e4']);
    expect(user(4).recentEvents![1]).toMatchObject({ type: 'order.placed', source: 'web', properties: { n: 1, total: 10 } });
    expect(user(4).attributes).toEqual({ index: 4 });
    expect(user(4).computed).toMatchObject({ 'order.placed': { count: 2, sums: { total: 40 } }, 'page.viewed': { count: 3 } });
    expect(user(3).recentEvents!.map((e) => e.id)).toEqual(['u3-e0', 'u3-e1', 'u3-e2', 'u3-e3']);
    expect(user(3).computed!['page.viewed'].count).toBe(3);
    expect(user(5).recentEvents!.map((e) => e.id)).toEqual(['u5-e0']);
    expect(user(5).computed!['page.viewed'].count).toBe(2);
    const merged = byId.get(survivor)!;
    expect(merged.identities).toEqual({ email: 'merged@example.com', deviceId: 'device-m' });
    expect(merged.recentEvents!.map((e) => e.id)).toEqual(['m-link', 'm-email', 'm-device']);
    expect(merged.mergedIds).toEqual(absorbed);
    expect(byId.get(active[0])!.segments).toEqual({ vip: NOW.toISOString() });
    expect(byId.get(active[10])!.segments).toBeUndefined();
  });

  it('reads the same profiles as one segment as over 4, and ends a segment without a cursor', async () => {
    const scanner = new DynamoProfileScanner(db, SCAN_PROFILES, clock);
    const { byId } = await scanAll(scanner, 1, 100);
    expect([...byId.keys()].sort()).toEqual(active);
    const whole = await scanner.scan({ segment: 0, totalSegments: 1, limit: 100 });
    expect(whole.profiles).toHaveLength(61);
    expect(whole.cursor).toBeUndefined();
  });

  it('refuses a cursor it did not make and a segment outside the scan', async () => {
    const scanner = new DynamoProfileScanner(db, SCAN_PROFILES, clock);
    await expect(scanner.scan({ segment: 0, totalSegments: 4, limit: 7, cursor: 'bm90IGEga2V5' })).rejects.toMatchObject({ name: 'InvalidCursorError' });
    await expect(scanner.scan({ segment: 4, totalSegments: 4, limit: 7 })).rejects.toThrow(/segment must be an integer from 0 to 3, received 4/);
    await expect(scanner.scan({ segment: 0, totalSegments: 4, limit: 0 })).rejects.toThrow(/limit must be a positive integer/);
  });
});
