import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoSendCapStore } from '../../lambdas/adapters/dynamodb-governance';
import { ProfileIndex } from '../../lambdas/core/config/env-keys';
import { capClaims, type GovernedMessage } from '../../lambdas/core/governance/evaluate';
import type { SendCapStore } from '../../lambdas/core/governance/ports';
import { Rule } from '../../lambdas/core/governance/rules';
import { startDynalite, type LocalDynamo } from '../../lambdas/local/dynalite';
import { MemorySendCapStore } from '../../lambdas/local/memory/governance';
import { MemoryTable } from '../../lambdas/local/memory/table';

const RUNTIME = 'runtime';
let dynamo: LocalDynamo;
let db: DynamoDBDocumentClient;

beforeAll(async () => {
  dynamo = await startDynalite([RUNTIME], { profileIndexOn: [RUNTIME] });
  db = DynamoDBDocumentClient.from(dynamo.client, { marshallOptions: { removeUndefinedValues: true } });
});

afterAll(async () => {
  await dynamo?.stop();
});

const rules = [
  Rule.parse({ id: 'email-daily', kind: 'frequency-cap', channel: 'email', limit: 2, period: { calendar: 'day' } }),
  Rule.parse({ id: 'all-weekly', kind: 'frequency-cap', channel: 'any', limit: 5, period: { rolling: '7d' } }),
];
const T0 = Date.parse('2026-12-03T10:00:00.000Z');
const email = (profileId: string, ms: number): GovernedMessage => ({
  profileId,
  timeZone: 'Europe/Berlin',
  channel: 'email',
  messageClass: 'marketing',
  journey: { id: 'j', priority: 50 },
  now: new Date(ms),
});

const stores: [string, () => SendCapStore][] = [
  ['DynamoDB (dynalite)', () => new DynamoSendCapStore(db, RUNTIME, { baseDelayMs: 2 })],
  ['memory', () => new MemorySendCapStore(new MemoryTable('runtime', { profileIndex: true }))],
];

describe.each(stores)('send cap store: %s', (_name, open) => {
  it('lets exactly 2 of 10 emails through when 5 journeys race to send one profile within a second under 2 a day', async () => {
    const store = open();
    const profileId = `p-race-${_name.length}`;
    // 5 journeys × 2 send nodes, all within one second.
    const attempts = Array.from({ length: 10 }, (_, i) => {
      const at = T0 + i * 97;
      const holder = `arn:aws:states:eu-west-1:1:execution:journey-${i % 5}:run-${i % 5}#send-${Math.floor(i / 5)}`;
      return store.reserve(profileId, { holder, at: new Date(at), claims: capClaims(rules, email(profileId, at)) });
    });
    const outcomes = await Promise.all(attempts);
    expect(outcomes.filter((o) => o.ok)).toHaveLength(2);
    expect(outcomes.filter((o) => !o.ok)).toEqual(Array(8).fill({ ok: false, ruleId: 'email-daily' }));
  });

  it('a released slot can be taken again, and releasing twice gives back one slot', async () => {
    const store = open();
    const claims = capClaims(rules, email('p-release', T0));
    expect(await store.reserve('p-release', { holder: 'e1#a', at: new Date(T0), claims })).toEqual({ ok: true, taken: true });
    expect(await store.reserve('p-release', { holder: 'e2#a', at: new Date(T0 + 1), claims })).toEqual({ ok: true, taken: true });
    expect(await store.reserve('p-release', { holder: 'e3#a', at: new Date(T0 + 2), claims })).toEqual({ ok: false, ruleId: 'email-daily' });
    expect(await store.release('p-release', 'e1#a', new Date(T0 + 3))).toBe(true);
    expect(await store.release('p-release', 'e1#a', new Date(T0 + 4))).toBe(false);
    expect(await store.reserve('p-release', { holder: 'e3#a', at: new Date(T0 + 5), claims })).toEqual({ ok: true, taken: true });
    expect(await store.reserve('p-release', { holder: 'e4#a', at: new Date(T0 + 6), claims })).toEqual({ ok: false, ruleId: 'email-daily' });
  });

  it('a merge carries the absorbed profile’s slots into the survivor’s caps, once', async () => {
    const store = open();
    const claims = capClaims(rules, email('p-survivor', T0));
    expect(await store.reserve('p-absorbed', { holder: 'e1#a', at: new Date(T0), claims })).toMatchObject({ ok: true });
    expect(await store.reserve('p-survivor', { holder: 'e2#a', at: new Date(T0 + 1), claims })).toMatchObject({ ok: true });
    expect(await store.carryOver('p-absorbed', 'p-survivor')).toBe(1);
    expect(await store.carryOver('p-absorbed', 'p-survivor')).toBe(0);
    expect(await store.carryOver('p-nobody', 'p-survivor')).toBe(0);
    // 2 a day: the survivor's day is now full; the absorbed send's slot can be released through the survivor.
    expect(await store.reserve('p-survivor', { holder: 'e3#a', at: new Date(T0 + 2), claims })).toEqual({ ok: false, ruleId: 'email-daily' });
    expect(await store.release('p-survivor', 'e1#a', new Date(T0 + 3))).toBe(true);
  });

  it('a retried step keeps its one slot; the next local day has room again', async () => {
    const store = open();
    const claims = capClaims(rules, email('p-retry', T0));
    for (let i = 0; i < 3; i++) expect(await store.reserve('p-retry', { holder: 'e1#a', at: new Date(T0 + i), claims })).toEqual({ ok: true, taken: i === 0 });
    expect(await store.reserve('p-retry', { holder: 'e2#a', at: new Date(T0 + 5), claims })).toEqual({ ok: true, taken: true });
    const tomorrow = T0 + 86_400_000;
    expect(await store.reserve('p-retry', { holder: 'e3#a', at: new Date(tomorrow), claims: capClaims(rules, email('p-retry', tomorrow)) })).toEqual({ ok: true, taken: true });
    // The weekly total (5) is not full yet either: 3 taken.
  });
});

it('keeps the cap item under the profile index (found by erasure and export) with a TTL', async () => {
  const store = new DynamoSendCapStore(db, RUNTIME);
  await store.reserve('p-index', { holder: 'e#a', at: new Date(T0), claims: capClaims(rules, email('p-index', T0)) });
  const { Item } = await db.send(new GetCommand({ TableName: RUNTIME, Key: { pk: 'SENDCAP#p-index', sk: 'SLOTS' } }));
  expect(Item).toMatchObject({ profileId: 'p-index', version: 1, slots: [{ h: 'e#a', t: T0 }] });
  expect(Item!.expiresAt).toBeGreaterThan(T0 / 1000 + 7 * 86400);
  const { Items } = await db.send(
    new QueryCommand({ TableName: RUNTIME, IndexName: ProfileIndex.name, KeyConditionExpression: 'profileId = :p', ExpressionAttributeValues: { ':p': 'p-index' } }),
  );
  expect(Items?.map((i) => i.pk)).toEqual(['SENDCAP#p-index']);
});
