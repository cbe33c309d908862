import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoRuleStore } from '../../lambdas/adapters/dynamodb-rules';
import { parseRule } from '../../lambdas/core/governance/files';
import type { Rule } from '../../lambdas/core/governance/rules';
import type { RuleRecord, RuleStore } from '../../lambdas/core/governance/store';
import { startDynalite, type LocalDynamo } from '../../lambdas/local/dynalite';
import { memoryPorts } from '../../lambdas/local/memory-ports';

const JOURNEYS = 'journeys';
const NOW = new Date('2026-12-03T08:00:00.000Z');

const rule = (input: Record<string, unknown>): Rule => {
  const parsed = parseRule(input);
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  return parsed.value;
};
const cap = (id: string, limit = 3) => rule({ id, kind: 'frequency-cap', channel: 'email', limit, period: { rolling: '7d' }, journeyTags: ['promo'] });
const quiet = (id: string) => rule({ id, kind: 'quiet-hours', channel: 'push', from: '21:00', to: '08:00', days: ['fri', 'sat'], action: 'defer' });
const record = (definition: Rule, version = 1, origin: RuleRecord['origin'] = 'api'): RuleRecord => ({ definition, origin, version, updatedAt: NOW.toISOString() });

let dynamo: LocalDynamo;
let db: DynamoDBDocumentClient;

beforeAll(async () => {
  dynamo = await startDynalite([JOURNEYS]);
  db = DynamoDBDocumentClient.from(dynamo.client, { marshallOptions: { removeUndefinedValues: true } });
});

afterAll(async () => {
  await dynamo?.stop();
});

let table = 0;
/** Each test gets an empty store: a fresh memory table, or a fresh id prefix in dynalite's table. */
const stores: [string, () => { store: RuleStore; prefix: string }][] = [
  ['memory', () => ({ store: memoryPorts({ now: () => NOW }).ruleStore, prefix: '' })],
  ['DynamoDB (dynalite)', () => ({ store: dynamoRuleStore(db, JOURNEYS), prefix: `t${++table}-` })],
];

describe.each(stores)('rule store: %s', (_, make) => {
  // dynalite's table is shared by the tests: each lists only its own ids.
  const own = async (store: RuleStore, prefix: string) => (await store.list()).filter((r) => r.id.startsWith(prefix));

  it('lists what it holds as rules (the engine port) and as records with origin and version', async () => {
    const { store, prefix } = make();
    expect(await store.put(record(cap(`${prefix}email-weekly`), 1, 'file'), { force: true })).toBe(true);
    expect(await store.put(record(quiet(`${prefix}night`)), {})).toBe(true);
    expect((await own(store, prefix)).sort((a, b) => a.id.localeCompare(b.id))).toEqual([cap(`${prefix}email-weekly`), quiet(`${prefix}night`)]);
    const records = (await store.records()).filter((r) => r.definition.id.startsWith(prefix));
    expect(records).toEqual([record(cap(`${prefix}email-weekly`), 1, 'file'), record(quiet(`${prefix}night`))]);
    expect(await store.get(`${prefix}night`)).toEqual(record(quiet(`${prefix}night`)));
    expect(await store.get(`${prefix}nothing`)).toBeUndefined();
  });

  it('creates only when absent and replaces only at the version read', async () => {
    const { store, prefix } = make();
    const id = `${prefix}email-weekly`;
    expect(await store.put(record(cap(id)), {})).toBe(true);
    expect(await store.put(record(cap(id, 9)), {})).toBe(false);
    expect(await store.put(record(cap(id, 4), 2), { expectedVersion: 5 })).toBe(false);
    expect(await store.put(record(cap(id, 4), 2), { expectedVersion: 1 })).toBe(true);
    expect(await store.get(id)).toEqual(record(cap(id, 4), 2));
  });

  it('lets exactly one of racing writes at one version win', async () => {
    const { store, prefix } = make();
    const id = `${prefix}race`;
    await store.put(record(cap(id)), {});
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.put(record(cap(id, 10 + i), 2), { expectedVersion: 1 })));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await store.get(id))?.version).toBe(2);
  });

  it('deletes what exists, and says so; a second delete finds nothing', async () => {
    const { store, prefix } = make();
    await store.put(record(quiet(`${prefix}night`)), {});
    expect(await store.delete(`${prefix}night`)).toBe(true);
    expect(await store.delete(`${prefix}night`)).toBe(false);
    expect(await own(store, prefix)).toEqual([]);
  });
});

describe('DynamoDB rule items', () => {
  it('keeps a rule as segments and offers are kept: pk RULES, sk RULE#<id>, the definition as a JSON string', async () => {
    await dynamoRuleStore(db, JOURNEYS).put(record(cap('item-shape')), {});
    const { Item } = await db.send(new GetCommand({ TableName: JOURNEYS, Key: { pk: 'RULES', sk: 'RULE#item-shape' } }));
    expect(Item).toEqual({ pk: 'RULES', sk: 'RULE#item-shape', definition: JSON.stringify(cap('item-shape')), origin: 'api', version: 1, updatedAt: NOW.toISOString() });
  });

  it('reads an item written before a schema default existed with the default, and leaves out an item that no longer parses', async () => {
    const store = dynamoRuleStore(db, JOURNEYS);
    const { messageClass: _, ...older } = cap('older-item');
    await db.send(new PutCommand({ TableName: JOURNEYS, Item: { pk: 'RULES', sk: 'RULE#older-item', definition: JSON.stringify(older), origin: 'file', version: 1, updatedAt: 'deployed' } }));
    await db.send(new PutCommand({ TableName: JOURNEYS, Item: { pk: 'RULES', sk: 'RULE#broken-item', definition: JSON.stringify({ id: 'broken-item', kind: 'nap' }), origin: 'api', version: 1, updatedAt: 'x' } }));
    const listed = await store.list();
    expect(listed.find((r) => r.id === 'older-item')).toEqual(cap('older-item'));
    expect(listed.find((r) => r.id === 'broken-item')).toBeUndefined();
    expect((await store.records()).map((r) => r.definition.id)).toContain('broken-item');
  });
});
