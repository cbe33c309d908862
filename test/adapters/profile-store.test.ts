import { ScanCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { countRequests, createDynamoProfileStore } from '../../lambdas/adapters/dynamodb-profiles';
import type { BusinessEvent } from '../../lambdas/core/events/business-event';
import { ProfileContentionError } from '../../lambdas/core/profiles/ingest';
import { MemoryProfileStorage } from '../../lambdas/core/profiles/memory-storage';
import { defaultProfilePolicy, type ProfilePolicy } from '../../lambdas/core/profiles/model';
import { GraphProfileStore } from '../../lambdas/core/profiles/store';
import type { Profile } from '../../lambdas/core/runtime/ports';
import { startDynalite, type LocalDynamo } from '../../lambdas/local/dynalite';

const TABLE = 'profiles';
const NOW = new Date('2026-01-05T12:00:00.000Z');
const clock = { now: () => NOW };
const policy: ProfilePolicy = { ...defaultProfilePolicy, sourcePriority: ['crm'] };

let dynamo: LocalDynamo;
let db: DynamoDBDocumentClient;
let requests: ReturnType<typeof countRequests>;

beforeAll(async () => {
  dynamo = await startDynalite([TABLE]);
  requests = countRequests(dynamo.client);
  db = DynamoDBDocumentClient.from(dynamo.client, { marshallOptions: { removeUndefinedValues: true } });
});

afterAll(async () => {
  await dynamo?.stop();
});

const store = () => createDynamoProfileStore(db, TABLE, { clock, policy });

const event = (id: string, identities: Record<string, string>, over: Partial<BusinessEvent> = {}): BusinessEvent => ({
  id,
  type: 'order.placed',
  source: 'shop',
  time: '2026-01-01T10:00:00.000Z',
  identities,
  properties: {},
  ...over,
});

/** Requests one call sends, counted at the SDK client. */
async function measure(call: () => Promise<unknown>): Promise<{ reads: number; writes: number; byCommand: Record<string, number> }> {
  requests.reset();
  await call();
  return { ...requests.counts, byCommand: { ...requests.counts.byCommand } };
}

/** Delivers like Lambda: once more after contention (the event is idempotent). */
async function deliver(profiles: GraphProfileStore, e: BusinessEvent, retried: { count: number }) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await profiles.ingest(e);
    } catch (error) {
      if (!(error instanceof ProfileContentionError) || attempt >= 5) throw error;
      retried.count++;
    }
  }
}

describe('DynamoDB profile store: requests per event', () => {
  it('applies an event to a known single-identity profile with 1 read and 2 writes', async () => {
    const profiles = store();
    await profiles.ingest(event('known-1', { email: 'known@example.com' }));
    const counts = await measure(() => profiles.ingest(event('known-2', { email: 'known@example.com' }, { time: '2026-01-02T00:00:00.000Z', attributes: { tier: 'gold' }, properties: { total: 12 } })));
    expect(counts).toEqual({ reads: 1, writes: 2, byCommand: { GetItemCommand: 1, PutItemCommand: 1, UpdateItemCommand: 1 } });
    // Consent keeps a bounded history: an event carrying consent (a sign-up, a preference centre) reads the profile and
    // its event record (the exact dedupe) first.
    const withConsent = await measure(() => profiles.ingest(event('known-3', { email: 'known@example.com' }, { time: '2026-01-03T00:00:00.000Z', consent: { email: 'opted-in' } })));
    expect(withConsent).toEqual({ reads: 4, writes: 2, byCommand: { GetItemCommand: 4, PutItemCommand: 2 } });
    const profile = await profiles.findByIdentity('email', 'known@example.com');
    expect(profile).toMatchObject({ attributes: { tier: 'gold' }, consent: { email: { status: 'opted-in', source: 'shop' } }, computed: { 'order.placed': { count: 3, sums: { total: 12 } } } });
  });

  it('creates a new profile with 1 read and 3 writes', async () => {
    const counts = await measure(() => store().ingest(event('new-1', { email: 'new@example.com' })));
    expect(counts).toEqual({ reads: 1, writes: 3, byCommand: { GetItemCommand: 1, PutItemCommand: 3 } });
  });

  it('merges two profiles with 7 reads and 7 writes when the absorbed one has one event and one identity', async () => {
    const profiles = store();
    await profiles.ingest(event('merge-1', { deviceId: 'merge-d' }, { time: '2025-12-20T00:00:00.000Z' }));
    await profiles.ingest(event('merge-2', { email: 'merge@example.com' }));
    const counts = await measure(() => profiles.ingest(event('merge-3', { email: 'merge@example.com', deviceId: 'merge-d' })));
    expect(counts).toEqual({ reads: 7, writes: 7, byCommand: { GetItemCommand: 6, QueryCommand: 1, PutItemCommand: 3, UpdateItemCommand: 4 } });
  });
});

describe('DynamoDB profile store: behaviour', () => {
  it('counts a redelivered event id once', async () => {
    const profiles = store();
    const order = event('dup-1', { email: 'dup@example.com' }, { properties: { total: 40 } });
    await profiles.ingest(order);
    const again = await profiles.ingest(order);
    expect(again.duplicate).toBe(true);
    expect((await profiles.findByIdentity('email', 'dup@example.com'))?.computed?.['order.placed']).toMatchObject({ count: 1, sums: { total: 40 } });
  });

  it('reads an absorbed profile id as the profile that absorbed it, with both windows', async () => {
    const profiles = store();
    const older = await profiles.ingest(event('abs-1', { deviceId: 'abs-d' }, { time: '2025-12-20T00:00:00.000Z', attributes: { city: 'Oslo' } }));
    const newer = await profiles.ingest(event('abs-2', { email: 'abs@example.com' }, { attributes: { tier: 'gold' } }));
    const link = await profiles.ingest(event('abs-3', { email: 'abs@example.com', deviceId: 'abs-d' }, { type: 'app.login' }));
    expect(link.merged).toEqual([newer.profile.id]);
    const read = await profiles.get(newer.profile.id);
    expect(read).toMatchObject({ id: older.profile.id, attributes: { city: 'Oslo', tier: 'gold' }, identities: { email: 'abs@example.com', deviceId: 'abs-d' } });
    expect(read?.recentEvents?.map((e) => e.id)).toEqual(['abs-3', 'abs-2', 'abs-1']);
  });

  it('holds what the in-memory store holds after the same events, in order or not (increment and read-modify-write paths agree)', async () => {
    let run = 0;
    const sequence = fc.array(
      fc.record({
        identity: fc.constantFrom('a', 'b', 'c'),
        second: fc.option(fc.constantFrom('a', 'b', 'c'), { nil: undefined }),
        type: fc.constantFrom('order.placed', 'page.viewed'),
        source: fc.constantFrom('shop', 'crm'),
        day: fc.integer({ min: 1, max: 4 }),
        attributes: fc.option(fc.dictionary(fc.constantFrom('tier', 'city'), fc.oneof(fc.constantFrom('gold', 'silver'), fc.integer({ min: 0, max: 2 }), fc.constant(null))), { nil: undefined }),
        consent: fc.option(fc.dictionary(fc.constantFrom('email', 'list:news'), fc.constantFrom('opted-in' as const, 'opted-out' as const)), { nil: undefined }),
        total: fc.integer({ min: 0, max: 100 }),
        repeat: fc.boolean(),
      }),
      { minLength: 1, maxLength: 8 },
    );
    await fc.assert(
      fc.asyncProperty(sequence, async (steps) => {
        const prefix = `eq${run++}`;
        const memory = new GraphProfileStore({ storage: new MemoryProfileStorage(clock.now), clock, policy });
        const dynamoStore = store();
        const events = steps.map((s, i) =>
          event(`${prefix}-${i}`, { email: `${prefix}-${s.identity}`, ...(s.second ? { deviceId: `${prefix}-${s.second}` } : {}) }, {
            type: s.type,
            source: s.source,
            time: `2026-01-0${s.day}T00:00:00.000Z`,
            attributes: s.attributes,
            consent: s.consent,
            properties: { total: s.total },
          }),
        );
        for (const [i, e] of events.entries()) {
          await memory.ingest(e);
          await dynamoStore.ingest(e);
          if (steps[i].repeat) await dynamoStore.ingest(e);
        }
        for (const identity of ['a', 'b', 'c']) {
          const fromMemory = await memory.findByIdentity('email', `${prefix}-${identity}`);
          const fromDynamo = await dynamoStore.findByIdentity('email', `${prefix}-${identity}`);
          expect(comparable(fromDynamo)).toEqual(comparable(fromMemory));
        }
      }),
      { numRuns: 25 },
    );
  });

  it('partitions identities into one profile per chain when 352 deliveries chaining them arrive at once', async () => {
    const profiles = store();
    // Four chains: email k ↔ phone k+1 ↔ email k+1 for k < 40 (320 events), plus a repeat of every fifth order, all in flight together.
    const chains = [0, 1, 2, 3];
    const events = chains.flatMap((chain) =>
      Array.from({ length: 40 }, (_, k) => event(`burst-${chain}-${k}`, { email: `burst-${chain}-${k}@example.com`, phone: `burst-${chain}-${k + 1}` }, { properties: { total: 1 } })),
    );
    const linked = chains.flatMap((chain) => Array.from({ length: 40 }, (_, k) => event(`burst-link-${chain}-${k}`, { phone: `burst-${chain}-${k + 1}`, email: `burst-${chain}-${k + 1}@example.com` }, { type: 'link' })));
    const deliveries = shuffled([...events, ...linked, ...events.filter((_, i) => i % 5 === 0)]);
    const retried = { count: 0 };
    const started = performance.now();
    await Promise.all(deliveries.map((e) => deliver(profiles, e, retried)));
    console.log(`${deliveries.length} concurrent deliveries in ${Math.round(performance.now() - started)} ms, ${retried.count} retried for contention`);

    for (const chain of chains) {
      const ids = new Set<string>();
      for (let k = 0; k <= 40; k++) {
        if (k < 40) ids.add((await profiles.findByIdentity('email', `burst-${chain}-${k}@example.com`))!.id);
        if (k > 0) ids.add((await profiles.findByIdentity('phone', `burst-${chain}-${k}`))!.id);
      }
      expect(ids.size).toBe(1);
      const [id] = ids;
      const profile = (await profiles.get(id))!;
      expect(profile.identityValues?.phone).toHaveLength(40);
      expect(profile.identityValues?.email).toHaveLength(41);
      expect(profile.computed?.['order.placed']).toMatchObject({ count: 40, sums: { total: 40 } });
      expect(profile.computed?.link.count).toBe(40);
    }
    const { Items } = await db.send(new ScanCommand({ TableName: TABLE, FilterExpression: 'sk = :profile AND #s = :active', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':profile': 'PROFILE', ':active': 'active' } }));
    const live = (Items ?? []).filter((item) => Object.keys(item).some((k) => k.startsWith('i#email#burst-')));
    expect(live).toHaveLength(4);
  }, 180_000);
});

/** A fixed permutation (a stride coprime with the length), so the run is repeatable. */
function shuffled<T>(items: T[]): T[] {
  let stride = 37;
  while (gcd(stride, items.length) !== 1) stride += 2;
  return items.map((_, i) => items[(i * stride) % items.length]);
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function comparable(profile: Profile | undefined) {
  if (!profile) return undefined;
  const { id: _id, version: _version, updatedAt: _updatedAt, createdAt: _createdAt, ...rest } = profile;
  return rest;
}
