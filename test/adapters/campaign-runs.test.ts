import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { CAMPAIGN_COUNTER_SHARDS, DynamoCampaignRuns } from '../../lambdas/adapters/dynamodb-campaign-runs';
import { DynamoCampaignRegistry } from '../../lambdas/adapters/dynamodb-campaign-registry';
import { campaignItem, RUN_COUNTER, type CampaignRunRecord, type CampaignRuns, type RegisteredCampaign } from '../../lambdas/core/campaigns/contract';
import { memoryCampaignRuns } from '../../lambdas/core/campaigns/memory';
import { Campaign } from '../../lambdas/core/campaigns/schema';
import { InvalidCursorError } from '../../lambdas/core/runtime/errors';
import { startDynalite, type LocalDynamo } from '../../lambdas/local/dynalite';
import { parseCampaignDefinition } from '../../lambdas/core/campaigns/stored';

const RUNTIME = 'campaign-runtime';
const JOURNEYS = 'campaign-journeys';
let dynamo: LocalDynamo;
let db: DynamoDBDocumentClient;

beforeAll(async () => {
  dynamo = await startDynalite([RUNTIME, JOURNEYS]);
  db = DynamoDBDocumentClient.from(dynamo.client, { marshallOptions: { removeUndefinedValues: true } });
});
afterAll(() => dynamo?.stop());

let n = 0;
const campaignId = () => `c-${++n}-${Math.random().toString(36).slice(2, 8)}`;
const run = (c: string, runId: string, createdAt: string, more: Partial<CampaignRunRecord> = {}): CampaignRunRecord => ({
  campaignId: c,
  runId,
  status: 'starting',
  trigger: 'api',
  createdAt,
  version: 1,
  ...more,
});

const stores: [string, () => CampaignRuns][] = [
  ['DynamoCampaignRuns (dynalite)', () => new DynamoCampaignRuns(db, RUNTIME)],
  ['memoryCampaignRuns', () => memoryCampaignRuns()],
];

describe.each(stores)('%s', (_name, make) => {
  it('creates a run once: a second create with the same id is refused and leaves the first as it was', async () => {
    const runs = make();
    const c = campaignId();
    expect(await runs.create(run(c, 'r1', '2026-12-03T09:00:00.000Z'))).toBe(true);
    expect(await runs.create(run(c, 'r1', '2026-12-03T09:05:00.000Z', { status: 'running' }))).toBe(false);
    expect(await runs.get(c, 'r1')).toEqual(run(c, 'r1', '2026-12-03T09:00:00.000Z'));
    expect(await runs.get(c, 'nope')).toBeUndefined();
    expect(await runs.get(campaignId(), 'r1')).toBeUndefined();
  });

  it('updates only at the expected version (compare-and-set)', async () => {
    const runs = make();
    const c = campaignId();
    const first = run(c, 'r1', '2026-12-03T09:00:00.000Z');
    await runs.create(first);
    const running = { ...first, status: 'running' as const, version: 2, executionArn: 'arn:x' };
    expect(await runs.update(running, 1)).toBe(true);
    expect(await runs.update({ ...first, status: 'paused', version: 2 }, 1)).toBe(false);
    expect(await runs.get(c, 'r1')).toEqual(running);
    expect(await runs.update({ ...running, status: 'paused', version: 3 }, 2)).toBe(true);
    expect((await runs.get(c, 'r1'))?.status).toBe('paused');
    expect(await runs.update(run(c, 'missing', '2026-12-03T09:00:00.000Z', { version: 2 }), 1)).toBe(false);
  });

  it('lists a campaign’s runs newest first, in pages that end without a cursor', async () => {
    const runs = make();
    const c = campaignId();
    const times = ['2026-12-01T09:00:00.000Z', '2026-12-03T09:00:00.000Z', '2026-12-02T09:00:00.000Z', '2026-12-04T09:00:00.000Z', '2026-12-05T09:00:00.000Z'];
    for (const [i, t] of times.entries()) await runs.create(run(c, `r${i}`, t));
    await runs.create(run(campaignId(), 'other', '2026-12-06T00:00:00.000Z'));
    const first = await runs.list(c, { limit: 2 });
    expect(first.runs.map((r) => r.runId)).toEqual(['r4', 'r3']);
    expect(first.cursor).toBeDefined();
    const second = await runs.list(c, { limit: 2, cursor: first.cursor });
    expect(second.runs.map((r) => r.runId)).toEqual(['r1', 'r2']);
    const third = await runs.list(c, { limit: 2, cursor: second.cursor });
    expect(third).toEqual({ runs: [expect.objectContaining({ runId: 'r0' })] });
    expect(await runs.list(c, { limit: 5 })).toEqual({ runs: expect.any(Array) });
    expect(await runs.list(campaignId(), { limit: 5 })).toEqual({ runs: [] });
  });

  it('refuses a cursor it never returned', async () => {
    const runs = make();
    await expect(runs.list(campaignId(), { limit: 2, cursor: 'not a cursor' })).rejects.toBeInstanceOf(InvalidCursorError);
  });

  it('keeps an updated run in its place in the listing', async () => {
    const runs = make();
    const c = campaignId();
    await runs.create(run(c, 'a', '2026-12-01T09:00:00.000Z'));
    await runs.create(run(c, 'b', '2026-12-02T09:00:00.000Z'));
    await runs.update(run(c, 'a', '2026-12-01T09:00:00.000Z', { status: 'cancelled', version: 2 }), 1);
    const { runs: listed } = await runs.list(c, { limit: 10 });
    expect(listed.map((r) => [r.runId, r.status])).toEqual([['b', 'starting'], ['a', 'cancelled']]);
  });

  it('sums counters per step, name and dimension, separators and prototype names included', async () => {
    const runs = make();
    const c = campaignId();
    await runs.add(c, 'r1', [
      { step: '', name: RUN_COUNTER.audience, dim: '' },
      { step: 'email', name: RUN_COUNTER.sent, dim: '' },
      { step: 'email', name: RUN_COUNTER.sent, dim: '' },
      { step: 'email', name: RUN_COUNTER.suppressed, dim: 'a#b&c=d' },
      { step: 'email', name: RUN_COUNTER.suppressed, dim: '__proto__' },
    ]);
    await runs.add(c, 'r1', [
      { step: 'email', name: RUN_COUNTER.sent, dim: '', value: 3 },
      { step: '', name: RUN_COUNTER.excluded, dim: 'control-group', value: 7 },
    ]);
    await runs.add(c, 'r2', [{ step: 'email', name: RUN_COUNTER.sent, dim: '' }]);
    const counts = await runs.counts(c, 'r1');
    expect(counts).toHaveLength(5);
    expect(counts).toEqual(
      expect.arrayContaining([
        { step: '', name: 'audience', dim: '', value: 1 },
        { step: '', name: 'excluded', dim: 'control-group', value: 7 },
        { step: 'email', name: 'sent', dim: '', value: 5 },
        { step: 'email', name: 'suppressed', dim: 'a#b&c=d', value: 1 },
        { step: 'email', name: 'suppressed', dim: '__proto__', value: 1 },
      ]),
    );
    expect(await runs.counts(c, 'none')).toEqual([]);
  });

  it('adds the counts of a fact once however often it is retried, summed with the other counters', async () => {
    const runs = make();
    const c = campaignId();
    const page = [
      { step: '', name: RUN_COUNTER.audience, dim: '', value: 40 },
      { step: '', name: RUN_COUNTER.excluded, dim: 'control-group', value: 2 },
    ];
    expect(await runs.addOnce(c, 'r1', 'audience/0000-000000', page)).toBe(true);
    expect(await runs.addOnce(c, 'r1', 'audience/0000-000000', page)).toBe(false);
    expect(await runs.addOnce(c, 'r1', 'audience/0001-000000', [{ step: '', name: RUN_COUNTER.audience, dim: '', value: 10 }])).toBe(true);
    // The same fact name in another run is another fact.
    expect(await runs.addOnce(c, 'r2', 'audience/0000-000000', page)).toBe(true);
    await runs.add(c, 'r1', [{ step: '', name: RUN_COUNTER.audience, dim: '', value: 1 }]);
    expect(await runs.counts(c, 'r1')).toEqual(
      expect.arrayContaining([
        { step: '', name: 'audience', dim: '', value: 51 },
        { step: '', name: 'excluded', dim: 'control-group', value: 2 },
      ]),
    );
    expect(await runs.counts(c, 'r1')).toHaveLength(2);
  });
});

describe('DynamoCampaignRuns', () => {
  it('counts 4,000 concurrent increments of one run exactly, over every shard', async () => {
    const c = campaignId();
    const writers = Array.from({ length: 40 }, () => new DynamoCampaignRuns(db, RUNTIME));
    // 40 batch functions × 4 calls × 25 facts at once, as a step's Distributed Map children count their sends.
    await Promise.all(
      writers.flatMap((w, i) =>
        [0, 1, 2, 3].map((k) => w.add(c, 'busy', Array.from({ length: 25 }, (_, j) => ({ step: `s${(i + j + k) % 2}`, name: RUN_COUNTER.sent, dim: '' })))),
      ),
    );
    const counts = await new DynamoCampaignRuns(db, RUNTIME).counts(c, 'busy');
    expect(counts.map((x) => [x.step, x.value])).toEqual([
      ['s0', 2000],
      ['s1', 2000],
    ]);
  });

  it('sums one counter written to every shard', async () => {
    const c = campaignId();
    let i = 0;
    const runs = new DynamoCampaignRuns(db, RUNTIME, () => (i++ % CAMPAIGN_COUNTER_SHARDS) / CAMPAIGN_COUNTER_SHARDS);
    for (let k = 0; k < CAMPAIGN_COUNTER_SHARDS; k++) await runs.add(c, 'r', [{ step: 'x', name: RUN_COUNTER.sent, dim: '' }]);
    expect(await runs.counts(c, 'r')).toEqual([{ step: 'x', name: 'sent', dim: '', value: CAMPAIGN_COUNTER_SHARDS }]);
  });

  it('refuses an unknown counter, an over-long step and a cursor of another kind', async () => {
    const runs = new DynamoCampaignRuns(db, RUNTIME);
    await expect(runs.add('c', 'r', [{ step: '', name: 'nope' as never, dim: '' }])).rejects.toThrow(/unknown counter/);
    await expect(runs.add('c', 'r', [{ step: 'x'.repeat(200), name: RUN_COUNTER.sent, dim: '' }])).rejects.toThrow(/step/);
    await expect(runs.list('c', { limit: 2, cursor: Buffer.from('JOURNEY#x').toString('base64url') })).rejects.toBeInstanceOf(InvalidCursorError);
  });

  it('completes a creation whose second write was lost, and still refuses another run with that id', async () => {
    const c = campaignId();
    const runs = new DynamoCampaignRuns(db, RUNTIME);
    // What a crash between the two puts leaves: the run id's item without its record.
    await db.send(new PutCommand({ TableName: RUNTIME, Item: { pk: `CAMPAIGN_RUNS#${c}`, sk: 'RUNID#r1', createdAt: '2026-12-03T09:00:00.000Z' } }));
    expect(await runs.get(c, 'r1')).toBeUndefined();
    expect(await runs.create(run(c, 'r1', '2026-12-03T09:01:00.000Z'))).toBe(false);
    expect(await runs.create(run(c, 'r1', '2026-12-03T09:00:00.000Z'))).toBe(true);
    expect(await runs.create(run(c, 'r1', '2026-12-03T09:00:00.000Z'))).toBe(false);
    expect((await runs.get(c, 'r1'))?.createdAt).toBe('2026-12-03T09:00:00.000Z');
  });
});

describe('DynamoCampaignRegistry', () => {
  const campaign = (id: string) =>
    Campaign.parse({
      schemaVersion: 1,
      id,
      name: `Campaign ${id}`,
      audience: { segment: 'vip' },
      schedule: { type: 'on-demand' },
      start: 'email',
      steps: { email: { kind: 'deliver', channel: 'email', template: { subject: 'Hi', text: 'Hello' } } },
    });
  const registered = (id: string, more: Partial<RegisteredCampaign> = {}): RegisteredCampaign => ({
    campaign: campaign(id),
    stateMachineArn: `arn:aws:states:local:000000000000:stateMachine:waymark-local-campaign-${id}`,
    version: 'abc',
    ...more,
  });

  it('lists and gets the campaigns put as contract items, and nothing else of the table', async () => {
    const registry = new DynamoCampaignRegistry(db, JOURNEYS, parseCampaignDefinition);
    await registry.put(registered('weekly', { scheduleName: 'waymark-local-weekly' }));
    await registry.put(registered('win-back'));
    await db.send(new PutCommand({ TableName: JOURNEYS, Item: { pk: 'JOURNEYS', sk: 'JOURNEY#x', definition: '{}' } }));
    expect((await registry.list()).map((r) => r.campaign.id)).toEqual(['weekly', 'win-back']);
    expect(await registry.get('weekly')).toEqual(registered('weekly', { scheduleName: 'waymark-local-weekly' }));
    expect(await registry.get('__proto__')).toBeUndefined();
  });

  it('reads an item CDK wrote with campaignItem', async () => {
    await db.send(new PutCommand({ TableName: JOURNEYS, Item: campaignItem(registered('from-cdk')) }));
    expect(await new DynamoCampaignRegistry(db, JOURNEYS, parseCampaignDefinition).get('from-cdk')).toEqual(registered('from-cdk'));
  });
});
