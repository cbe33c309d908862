import { DynamoDBDocumentClient, GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { createDynamoProfileStore } from '../../lambdas/adapters/dynamodb-profiles';
import { parseApiEvent, type BusinessEvent } from '../../lambdas/core/events/business-event';
import { defaultProfilePolicy } from '../../lambdas/core/profiles/model';
import { dict } from '../../lambdas/core/shared/records';
import { startDynalite, type LocalDynamo } from '../../lambdas/local/dynalite';

const TABLE = 'profiles';
const NOW = new Date('2026-01-05T12:00:00.000Z');
const clock = { now: () => NOW };

let dynamo: LocalDynamo;
let db: DynamoDBDocumentClient;

beforeAll(async () => {
  dynamo = await startDynalite([TABLE]);
  db = DynamoDBDocumentClient.from(dynamo.client, { marshallOptions: { removeUndefinedValues: true } });
});

afterAll(async () => {
  await dynamo?.stop();
});

const store = () => createDynamoProfileStore(db, TABLE, { clock, policy: defaultProfilePolicy });

/** What the process must still look like after any event: Object.prototype and Object's statics untouched. */
const snapshotGlobals = () =>
  [Object.prototype, Object, Array.prototype, Function.prototype].map((target) =>
    Object.getOwnPropertyNames(target).map((name) => [name, Object.getOwnPropertyDescriptor(target, name)?.value ?? 'accessor']),
  );
const globals = snapshotGlobals();

/** An event as it arrives over the wire: JSON text, so `__proto__` is an own key, then the ingestion parse. */
function wireEvent(body: object, id: string, time = '2026-01-01T10:00:00.000Z'): BusinessEvent {
  const text = JSON.stringify(body).replaceAll('"__proto_x_"', '"__proto__"');
  const parsed = parseApiEvent(JSON.parse(text), { id, time, source: 'shop' });
  if (!parsed.ok) throw new Error(`rejected: ${JSON.stringify(parsed.errors)}`);
  return parsed.value;
}

async function itemsOf(pk: string): Promise<Record<string, unknown>[]> {
  const { Items } = await db.send(new ScanCommand({ TableName: TABLE, FilterExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk } }));
  return Items ?? [];
}

describe('DynamoDB profiles: keys named like Object.prototype members', () => {
  it('reads a profile linked by an identity namespace `constructor` without replacing Object.keys, then erases it', async () => {
    const profiles = store();
    const { profile } = await profiles.ingest(wireEvent({ type: 'member.signed-up', identities: { constructor: 'keys' } }, 'ctor-1'));
    // A second reader (another Lambda) loads the stored item.
    expect(await store().get(profile.id)).toMatchObject({ identities: { constructor: 'keys' } });
    expect(Object.keys({ a: 1 })).toEqual(['a']);
    expect(snapshotGlobals()).toEqual(globals);
    await profiles.erase(profile.id);
    expect(await itemsOf('IDENTITY#constructor#keys')).toEqual([]);
    expect(await itemsOf(`PROFILE#${profile.id}`)).toEqual([]);
  });

  it('keeps a profile with events of type `constructor` carrying numbers readable and erasable', async () => {
    const profiles = store();
    const identities = { email: 'ctor-type@example.com' };
    const { profile } = await profiles.ingest(wireEvent({ type: 'constructor', identities, properties: { total: 3 } }, 'type-1'));
    await profiles.ingest(wireEvent({ type: 'constructor', identities, properties: { total: 4, valueOf: 1 }, time: '2026-01-02T10:00:00.000Z' }, 'type-2'));
    const read = await store().get(profile.id);
    expect(read?.computed).toEqual({ constructor: { count: 2, firstSeen: '2026-01-01T10:00:00.000Z', lastSeen: '2026-01-02T10:00:00.000Z', sums: { total: 7, valueOf: 1 } } });
    expect(await profiles.erase(profile.id)).toMatchObject({ profileIds: [profile.id] });
    expect(await store().get(profile.id)).toBeUndefined();
    expect(snapshotGlobals()).toEqual(globals);
  });

  it('stores attributes named constructor, toString and __proto__ and reads them back', async () => {
    const profiles = store();
    const attributes = { constructor: 'c', toString: 't', __proto_x_: 'p', hasOwnProperty: 2 };
    const { profile } = await profiles.ingest(wireEvent({ type: 'member.signed-up', identities: { email: 'ctor-attr@example.com' }, attributes }, 'attr-1'));
    const { Item } = await db.send(new GetCommand({ TableName: TABLE, Key: { pk: `PROFILE#${profile.id}`, sk: 'PROFILE' } }));
    expect(Item).toMatchObject({ 'a#constructor': 'c', 'a#toString': 't', 'a#__proto__': 'p', 'a#hasOwnProperty': 2 });
    const read = await store().get(profile.id);
    expect(JSON.stringify(read?.attributes)).toBe('{"__proto__":"p","constructor":"c","hasOwnProperty":2,"toString":"t"}');
  });

  // Names that Object.prototype has, then plain ones; each generator keeps to its field's grammar.
  const prototypeNames = Object.getOwnPropertyNames(Object.prototype);
  const weighted = (pattern: RegExp) =>
    fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...prototypeNames.filter((n) => pattern.test(n))) },
      { weight: 1, arbitrary: fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/) },
    );
  const namespace = weighted(/^[A-Za-z][A-Za-z0-9_]{0,31}$/);
  const attribute = weighted(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/);
  const scalar = fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean(), fc.constant(null));
  // Null-prototype records from entries, so `__proto__` is an own key that JSON.stringify sends like any other.
  const record = <T>(key: fc.Arbitrary<string>, value: fc.Arbitrary<T>, minLength = 0) =>
    fc.uniqueArray(fc.tuple(key, value), { minLength, maxLength: 4, selector: ([k]) => k }).map((entries) => dict(entries));
  const runArb = fc.record({
    identities: record(namespace, fc.stringMatching(/^[a-z0-9]{1,6}$/), 1),
    events: fc.array(
      fc.record({
        // Which profile the event reaches first: the one of the generated identities or a second one (a device).
        on: fc.constantFrom('person', 'device'),
        type: namespace,
        attributes: record(attribute, scalar),
        properties: record(attribute, fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.string({ maxLength: 8 }))),
      }),
      { minLength: 1, maxLength: 4 },
    ),
  });
  let run = 0;

  it('ingest → item → read → merge → erase holds for any keys, prototype names first', async () => {
    await fc.assert(
      fc.asyncProperty(runArb, async ({ identities, events }) => {
        run++;
        const profiles = store();
        // Identity values unique to this run, so runs do not link to each other's profiles.
        const person = dict(Object.entries(identities).map(([ns, v]) => [ns, `${v}-${run}`] as const));
        const device = dict([['deviceId', `d-${run}`]]);
        // The last event carries both, so the two profiles merge (and their maps fold) before the read.
        const last = events.length - 1;
        const parsed = events.map(({ on, ...e }, i) =>
          wireEvent(
            { ...e, identities: i === last ? dict([...Object.entries(person), ...Object.entries(device)]) : on === 'person' ? person : device },
            `prop-${run}-${i}`,
            new Date(Date.parse('2026-01-01T00:00:00.000Z') + i * 60_000).toISOString(),
          ),
        );
        let id = '';
        for (const e of parsed) id = (await profiles.ingest(e)).profile.id;
        const read = await store().get(id);
        expect(read).toBeDefined();
        // Every attribute sent is held (the latest event's value wins: times increase), none dropped.
        const expected = new Map<string, unknown>();
        for (const e of events) for (const [name, value] of Object.entries(e.attributes)) expected.set(name, value);
        expect(new Map(Object.entries(read!.attributes))).toEqual(expected);
        const values = new Map([...Object.entries(person), ...Object.entries(device)].map(([ns, v]) => [ns, [v]]));
        expect(new Map(Object.entries(read!.identityValues!))).toEqual(values);
        expect(new Set(Object.keys(read!.computed ?? {}))).toEqual(new Set(events.map((e) => e.type)));
        // The recent-events window keeps each event's scalar properties under their own names.
        for (const [i, e] of events.entries()) {
          const entry = read!.recentEvents!.find((r) => r.id === `prop-${run}-${i}`);
          expect(new Map(Object.entries(entry!.properties))).toEqual(new Map(Object.entries(e.properties)));
        }
        expect(snapshotGlobals()).toEqual(globals);
        const erased = await profiles.erase(id);
        for (const pid of erased!.profileIds) expect(await itemsOf(`PROFILE#${pid}`)).toEqual([]);
        for (const [ns, value] of values) expect(await itemsOf(`IDENTITY#${ns}#${value[0]}`)).toEqual([]);
        expect(snapshotGlobals()).toEqual(globals);
      }),
      { numRuns: 30 },
    );
  });
});
