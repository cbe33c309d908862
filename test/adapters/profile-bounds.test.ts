import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { createDynamoProfileStore, DynamoProfileStorage } from '../../lambdas/adapters/dynamodb-profiles';
import type { BusinessEvent } from '../../lambdas/core/events/business-event';
import { newProfileId, windowEntry } from '../../lambdas/core/profiles/merge-policy';
import { MemoryProfileStorage } from '../../lambdas/core/profiles/memory-storage';
import { defaultProfilePolicy, ProfileLimits } from '../../lambdas/core/profiles/model';
import { GraphProfileStore } from '../../lambdas/core/profiles/store';
import { startDynalite, type LocalDynamo } from '../../lambdas/local/dynalite';
import { dynamoItemSize } from '../support/dynamo-item-size';

const TABLE = 'profiles';
const DAY = 86_400_000;
/** The bound lambdas/core/profiles/README.md documents for the bounded parts of one profile item. */
const ITEM_BUDGET = 300 * 1024;

let dynamo: LocalDynamo;
let db: DynamoDBDocumentClient;
let now = new Date('2026-01-05T12:00:00.000Z').getTime();
const clock = { now: () => new Date(now) };

beforeAll(async () => {
  dynamo = await startDynalite([TABLE]);
  db = DynamoDBDocumentClient.from(dynamo.client, { marshallOptions: { removeUndefinedValues: true } });
});

afterAll(async () => {
  await dynamo?.stop();
});

const store = () => createDynamoProfileStore(db, TABLE, { clock, policy: defaultProfilePolicy });

const event = (id: string, email: string, over: Partial<BusinessEvent> = {}): BusinessEvent => ({
  id,
  type: 'order.placed',
  source: 'shop',
  time: clock.now().toISOString(),
  identities: { email },
  properties: {},
  ...over,
});

describe('DynamoDB profile item bounds', () => {
  it('keeps the item within its budget under events with the largest allowed ids, types, sources, properties and attributes', async () => {
    const profiles = store();
    const memory = new GraphProfileStore({ storage: new MemoryProfileStorage(clock.now), clock, policy: defaultProfilePolicy });
    // Three-byte characters wherever the envelope allows any character, at their maximum lengths.
    const wide = (n: number, tag: string) => `${tag}-${'€'.repeat(n - tag.length - 1)}`;
    for (let i = 0; i < 80; i++) {
      now += 60_000;
      const e = event(wide(128, `id${i}`), 'bounds@example.com', {
        type: `t${i}.${'x'.repeat(120)}`,
        source: wide(256, `s${i}`),
        properties: Object.fromEntries(Array.from({ length: 8 }, (_, p) => [`${'p'.repeat(60)}_${i % 3}${p}`, p])),
        attributes: Object.fromEntries(Array.from({ length: 4 }, (_, a) => [`a${i}_${a}_${'n'.repeat(50)}`, '€'.repeat(341)])),
        ...(i % 10 === 0 ? { consent: { email: i % 20 === 0 ? 'opted-out' : 'opted-in', [`list:${'l'.repeat(60)}${i}`]: 'opted-out' } } : {}),
      });
      await profiles.ingest(e);
      await memory.ingest(e);
    }
    const profileId = newProfileId('email', 'bounds@example.com');
    const { Item } = await db.send(new GetCommand({ TableName: TABLE, Key: { pk: `PROFILE#${profileId}`, sk: 'PROFILE' } }));
    expect(dynamoItemSize(Item!)).toBeLessThanOrEqual(ITEM_BUDGET);
    const read = await profiles.findByIdentity('email', 'bounds@example.com');
    expect(Object.keys(read!.computed!)).toHaveLength(ProfileLimits.computedTypes);
    expect(Object.keys(read!.attributes)).toHaveLength(ProfileLimits.attributes);
    // An event-borne opt-in never undoes the opt-out before it (consent-state.ts).
    expect(read!.consent!.email.status).toBe('opted-out');
    expect(Object.values(read!.consent!).filter((c) => c.status === 'opted-out')).toHaveLength(9);
    // The increment path and the read path keep the same bounds: DynamoDB holds what the in-memory store holds.
    const fromMemory = await memory.findByIdentity('email', 'bounds@example.com');
    for (const field of ['attributes', 'computed', 'consent'] as const) expect({ field, value: read![field] }).toEqual({ field, value: fromMemory![field] });
  });

  it('applies once an event redriven 13 days after it failed between its record and the profile write', async () => {
    const profiles = store();
    await profiles.ingest(event('r-0', 'redrive@example.com'));
    const profileId = newProfileId('email', 'redrive@example.com');
    const order = event('r-1', 'redrive@example.com', { properties: { total: 40 } });
    // What the failed deliveries left behind: the record, and no profile write.
    await new DynamoProfileStorage(db, TABLE, clock).recordEvent(profileId, windowEntry(order, clock.now()));
    now += 13 * DAY;
    expect((await profiles.ingest(order)).duplicate).toBe(false);
    expect((await profiles.ingest(order)).duplicate).toBe(true);
    expect((await profiles.findByIdentity('email', 'redrive@example.com'))?.computed?.['order.placed']).toMatchObject({ count: 2, sums: { total: 40 } });
  });

  it('drops as a duplicate an event redriven 13 days after it was applied, with flushes in between', async () => {
    const profiles = store();
    const order = event('d-1', 'applied@example.com', { properties: { total: 40 } });
    await profiles.ingest(order);
    for (let i = 0; i < 3 * ProfileLimits.pendingFlushAt; i++) {
      now += 3_600_000;
      await profiles.ingest(event(`d-v${i}`, 'applied@example.com', { type: 'page.viewed' }));
    }
    now += 13 * DAY;
    expect((await profiles.ingest(order)).duplicate).toBe(true);
    expect((await profiles.findByIdentity('email', 'applied@example.com'))?.computed?.['order.placed']).toMatchObject({ count: 1, sums: { total: 40 } });
  });
});
