import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoLedger } from '../../lambdas/adapters/dynamodb';
import { batchGetItems, BATCH_GET_MAX_KEYS } from '../../lambdas/adapters/dynamodb-batch-get';
import { DynamoCampaignRuns } from '../../lambdas/adapters/dynamodb-campaign-runs';
import { countRequests, createDynamoProfileStore } from '../../lambdas/adapters/dynamodb-profiles';
import { DynamoSuppressionList } from '../../lambdas/adapters/dynamodb-suppression';
import { BATCH_LIMITS } from '../../lambdas/core/campaigns/batch';
import type { AudienceRow, CampaignMessageSender, RunContext } from '../../lambdas/core/campaigns/contract';
import { deliverBatch, type DeliverDeps } from '../../lambdas/core/campaigns/deliver';
import { enterJourneyBatch } from '../../lambdas/core/campaigns/enter';
import { Campaign } from '../../lambdas/core/campaigns/schema';
import { startDynalite, type LocalDynamo } from '../../lambdas/local/dynalite';
import { FakeClock, journeyRecord, runtime } from '../unit/runtime/fakes';

/**
 * How many DynamoDB requests a campaign batch makes, counted at the SDK client (a middleware, not timing): a window's
 * profiles, ledger entries and suppressions are read with one BatchGetItem each, not one GetItem per member.
 */
const PROFILES = 'batch-profiles';
const RUNTIME = 'batch-runtime';
const N = 60;
const WINDOWS = Math.ceil(N / BATCH_LIMITS.checkEvery);
let dynamo: LocalDynamo;
let db: DynamoDBDocumentClient;
let requests: ReturnType<typeof countRequests>;
const clock = new FakeClock('2026-12-03T12:00:00.000Z');

const campaign = (steps: Record<string, unknown>, start: string) =>
  Campaign.parse({
    schemaVersion: 1,
    id: 'promo',
    name: 'Promo',
    audience: { segment: 'everyone' },
    schedule: { type: 'on-demand' },
    messageClass: 'transactional',
    start,
    steps,
  });
const template = { subject: 'Hi', text: 'Hello {{ profile.attributes.name }}' };
const mail = campaign({ mail: { kind: 'deliver', channel: 'email', template } }, 'mail');

beforeAll(async () => {
  dynamo = await startDynalite([PROFILES, RUNTIME]);
  db = DynamoDBDocumentClient.from(dynamo.client, { marshallOptions: { removeUndefinedValues: true } });
  const profiles = createDynamoProfileStore(db, PROFILES, { clock });
  for (let i = 0; i < N; i++) {
    const time = clock.now().toISOString();
    const identities = { email: `m${i}@example.com` };
    const attributes = { name: `M${i}` };
    await profiles.upsertFromEvent({ id: `e-${i}`, type: 'seeded', source: 'test', time, identities, attributes, properties: {} });
  }
  requests = countRequests(dynamo.client);
});
afterAll(() => dynamo?.stop());

let runN = 0;
async function setup(campaignFile: Campaign) {
  const runs = new DynamoCampaignRuns(db, RUNTIME);
  const startedAt = clock.now().toISOString();
  const run: RunContext = { campaignId: 'promo', runId: `r${++runN}`, prefix: 'runs/promo/', startedAt, dryRun: false };
  await runs.create({ campaignId: 'promo', runId: run.runId, status: 'running', trigger: 'api', createdAt: run.startedAt, version: 1 });
  const profiles = createDynamoProfileStore(db, PROFILES, { clock });
  const ids = (await db.send(new ScanCommand({ TableName: PROFILES }))).Items!
    .filter((item) => String(item.pk).startsWith('PROFILE#') && item.sk === 'PROFILE')
    .map((item) => String(item.pk).slice('PROFILE#'.length))
    .sort();
  const items: AudienceRow[] = ids.map((profileId) => ({ profileId }));
  const sent: string[] = [];
  const sender: CampaignMessageSender = { send: async (message) => ({ messageId: `m-${sent.push(message.to)}` }) };
  const deps: DeliverDeps = {
    campaigns: { get: async () => ({ campaign: campaignFile, stateMachineArn: 'arn:sm', version: 'v1' }) },
    runs,
    profiles,
    ledger: new DynamoLedger(db, RUNTIME),
    suppression: new DynamoSuppressionList(db, RUNTIME),
    sender,
    clock,
  };
  const counts = async () => Object.fromEntries((await runs.counts('promo', run.runId)).map((c) => [`${c.name}/${c.dim}`, c.value]));
  return { deps, run, items, sent, counts, suppression: deps.suppression as DynamoSuppressionList };
}

const byCommand = () => ({ ...requests.counts.byCommand });

describe('campaign batches read in batches (requests counted at the DynamoDB client)', () => {
  it('a deliver batch reads profiles, ledger entries and suppressions with one BatchGetItem each per window', async () => {
    const { deps, run, items, sent, counts, suppression } = await setup(mail);
    await suppression.suppress('m3@example.com', 'bounce', clock.now().toISOString(), 'test');
    requests.reset();
    await deliverBatch(deps, { run, step: 'mail', items });
    const made = byCommand();
    expect(items).toHaveLength(N);
    expect(sent).toHaveLength(N - 1);
    expect(await counts()).toEqual({ 'sent/': N - 1, 'suppressed/suppressed:bounce': 1 });
    // Profiles, ledger, suppression list: 3 per window, whatever the window's size.
    expect(made.BatchGetItemCommand).toBe(3 * WINDOWS);
    // Only the run's status (its id item, then the record) per window: no GetItem per member.
    expect(made.GetItemCommand ?? 0).toBeLessThanOrEqual(2 * WINDOWS);
    // The ledger's conditional writes stay one per message: prepared before the call, settled after it.
    expect(made.PutItemCommand).toBe(N);
    // Settles, plus one increment per counter and window.
    expect(made.UpdateItemCommand).toBeLessThanOrEqual(N - 1 + 2 * WINDOWS);
  });

  it('a retried deliver batch reads the ledger in batches, writes nothing and counts nothing again', async () => {
    const { deps, run, items, sent, counts } = await setup(mail);
    await deliverBatch(deps, { run, step: 'mail', items });
    requests.reset();
    await deliverBatch(deps, { run, step: 'mail', items });
    const made = byCommand();
    // m3@example.com is on the suppression list (the first test).
    expect(sent).toHaveLength(N - 1);
    expect(await counts()).toEqual({ 'sent/': N - 1, 'suppressed/suppressed:bounce': 1 });
    expect(made.BatchGetItemCommand).toBe(3 * WINDOWS);
    expect(made.PutItemCommand ?? 0).toBe(0);
    expect(made.UpdateItemCommand ?? 0).toBe(0);
  });

  it('an enter-journey batch reads its profiles with one BatchGetItem per window', async () => {
    const enter = campaign({ enter: { kind: 'enter-journey', journey: 'welcome' } }, 'enter');
    const { deps, run, items } = await setup(enter);
    const rt = runtime([journeyRecord({ id: 'welcome', entry: { kind: 'api' } })], clock);
    requests.reset();
    const done = await enterJourneyBatch(
      { ...deps, journeys: rt.journeys, enrollments: rt.enrollments, executions: rt.executions },
      { run, step: 'enter', items },
    );
    expect(done.status).toBe('done');
    expect(rt.executions.executions.size).toBe(N);
    expect(byCommand().BatchGetItemCommand).toBe(WINDOWS);
  });
});

describe('batchGetItems', () => {
  it('reads more than 100 keys in requests of at most 100, in the order asked, duplicates and misses included', async () => {
    const keys = Array.from({ length: 2 * BATCH_GET_MAX_KEYS + 5 }, (_, i) => ({ pk: `PROFILE#none-${i}`, sk: 'PROFILE' }));
    const ids = (await db.send(new ScanCommand({ TableName: PROFILES }))).Items!
      .filter((item) => String(item.pk).startsWith('PROFILE#') && item.sk === 'PROFILE')
      .slice(0, 2);
    const asked = [{ pk: ids[0].pk, sk: 'PROFILE' }, ...keys, { pk: ids[1].pk, sk: 'PROFILE' }, { pk: ids[0].pk, sk: 'PROFILE' }];
    requests.reset();
    const found = await batchGetItems(db, PROFILES, asked);
    expect(byCommand().BatchGetItemCommand).toBe(3);
    expect(found).toHaveLength(asked.length);
    expect(found[0]?.pk).toBe(ids[0].pk);
    expect(found.at(-2)?.pk).toBe(ids[1].pk);
    expect(found.at(-1)?.pk).toBe(ids[0].pk);
    expect(found.slice(1, -2).every((item) => item === undefined)).toBe(true);
  });

  it('reads the UnprocessedKeys of a partial answer again', async () => {
    const answers = [
      { Responses: { t: [{ pk: 'a', sk: 's' }] }, UnprocessedKeys: { t: { Keys: [{ pk: 'b', sk: 's' }] } } },
      { Responses: { t: [{ pk: 'b', sk: 's', n: 2 }] } },
    ];
    const asked: unknown[] = [];
    const send = async (command: { input: unknown }) => (asked.push(command.input), answers.shift());
    const fake = { send } as unknown as DynamoDBDocumentClient;
    const found = await batchGetItems(fake, 't', [{ pk: 'a', sk: 's' }, { pk: 'b', sk: 's' }], { sleep: async () => undefined });
    expect(found).toEqual([{ pk: 'a', sk: 's' }, { pk: 'b', sk: 's', n: 2 }]);
    expect(asked).toHaveLength(2);
    expect(asked[1]).toEqual({ RequestItems: { t: { Keys: [{ pk: 'b', sk: 's' }], ConsistentRead: false } } });
  });
});
