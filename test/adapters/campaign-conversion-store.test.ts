import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoCampaignConversionStore } from '../../lambdas/adapters/dynamodb-campaign-conversions';
import { DynamoProfileRecords } from '../../lambdas/adapters/dynamodb';
import type { CampaignConversionStore, CampaignGoalWindow } from '../../lambdas/core/campaigns/conversions';
import type { ProfileRecords } from '../../lambdas/core/runtime/ports';
import { startDynalite, type LocalDynamo } from '../../lambdas/local/dynalite';
import { MemoryCampaignConversionStore } from '../../lambdas/local/memory/campaign-conversions';
import { MemoryProfileRecords } from '../../lambdas/local/memory/runtime';
import { MemoryTable } from '../../lambdas/local/memory/table';

let dynamo: LocalDynamo;
let db: DynamoDBDocumentClient;
let tables = 0;
const NAMES = Array.from({ length: 8 }, (_, i) => `campaign-conversions-${i}`);

beforeAll(async () => {
  dynamo = await startDynalite(NAMES, { profileIndexOn: NAMES });
  db = DynamoDBDocumentClient.from(dynamo.client, { marshallOptions: { removeUndefinedValues: true } });
});
afterAll(() => dynamo?.stop());

interface Made {
  store: CampaignConversionStore;
  records: ProfileRecords;
  writeLedger: (item: Record<string, unknown>) => Promise<void>;
}

/** One contract, two implementations: each case gets a fresh table of its own. */
const implementations: [string, () => Made][] = [
  [
    'DynamoCampaignConversionStore (dynalite)',
    () => {
      const table = NAMES[tables++];
      const writeLedger = async (item: Record<string, unknown>) => void (await db.send(new PutCommand({ TableName: table, Item: item })));
      return { store: new DynamoCampaignConversionStore(db, table), records: new DynamoProfileRecords(db, table), writeLedger };
    },
  ],
  [
    'MemoryCampaignConversionStore',
    () => {
      const table = new MemoryTable('runtime', { profileIndex: true });
      return { store: new MemoryCampaignConversionStore(table), records: new MemoryProfileRecords(table), writeLedger: async (item) => table.put(item) };
    },
  ],
];

const window = (openedAt: string, over: Partial<CampaignGoalWindow> = {}): CampaignGoalWindow => ({
  campaignId: 'win-back',
  runId: `r-${openedAt.slice(0, 10)}`,
  profileId: 'p-1',
  goal: { event: 'order.placed', within: '14d', value: 'properties.total' },
  openedAt,
  until: new Date(Date.parse(openedAt) + 17 * 86_400_000).toISOString(),
  group: 'audience',
  branches: {},
  ...over,
});

describe.each(implementations)('%s', (_name, make) => {
  it('answers the windows opened at or before a time and still open, newest first, bounded', async () => {
    const { store } = make();
    for (const day of ['01', '02', '03', '20']) await store.open([window(`2026-11-${day}T09:00:00.000Z`)]);
    await store.open([window('2026-11-02T09:00:00.000Z', { goal: { event: 'policy.bought', within: '1d' }, runId: 'other' })]);
    const at = '2026-11-18T12:00:00.000Z';
    const open = await store.openAt('p-1', 'order.placed', at, 10);
    expect(open.map((w) => w.runId)).toEqual(['r-2026-11-03', 'r-2026-11-02']);
    expect(open[0]).toEqual(window('2026-11-03T09:00:00.000Z'));
    expect((await store.openAt('p-1', 'order.placed', at, 1)).map((w) => w.runId)).toEqual(['r-2026-11-03']);
    expect(await store.openAt('p-2', 'order.placed', at, 10)).toEqual([]);
  });

  it('converts a window once, and a window opened again keeps its conversion and branches', async () => {
    const { store } = make();
    const w = window('2026-11-01T09:00:00.000Z');
    await store.open([w]);
    await store.assign(w, 'holdout-split', 'holdout');
    expect(await store.convert(w, { at: '2026-11-02T00:00:00.000Z', eventId: 'o-1', revenue: 12.5 })).toBe(true);
    await store.open([w]);
    expect(await store.convert(w, { at: '2026-11-03T00:00:00.000Z', eventId: 'o-2' })).toBe(false);
    const [read] = await store.openAt('p-1', 'order.placed', '2026-11-04T00:00:00.000Z', 5);
    expect(read.branches).toEqual({ 'holdout-split': 'holdout' });
  });

  it('records no branch and converts nothing for a member without a window', async () => {
    const { store } = make();
    const w = window('2026-11-01T09:00:00.000Z');
    await store.assign(w, 'ab', 'a');
    expect(await store.convert(w, { at: '2026-11-02T00:00:00.000Z', eventId: 'o-1' })).toBe(false);
    expect(await store.openAt('p-1', 'order.placed', '2026-11-02T00:00:00.000Z', 5)).toEqual([]);
  });

  it("reads the member's messages of the run from the ledger", async () => {
    const { store, writeLedger } = make();
    const executionId = 'campaign:win-back:r-1:p-1';
    await writeLedger({ pk: `LEDGER#${executionId}`, sk: 'offer-email', executionId, nodeId: 'offer-email', status: 'sent', preparedAt: '2026-11-01T09:00:00.000Z', profileId: 'p-1' });
    await writeLedger({ pk: `LEDGER#${executionId}`, sk: 'nudge-sms', executionId, nodeId: 'nudge-sms', status: 'suppressed', preparedAt: '2026-11-04T09:00:00.000Z', profileId: 'p-1' });
    await writeLedger({ pk: 'LEDGER#campaign:win-back:r-1:p-2', sk: 'offer-email', nodeId: 'offer-email', status: 'sent', preparedAt: '2026-11-01T09:00:00.000Z' });
    const deliveries = await store.deliveries(executionId);
    expect(deliveries.sort((a, b) => a.nodeId.localeCompare(b.nodeId))).toEqual([
      { nodeId: 'nudge-sms', status: 'suppressed', preparedAt: '2026-11-04T09:00:00.000Z' },
      { nodeId: 'offer-email', status: 'sent', preparedAt: '2026-11-01T09:00:00.000Z' },
    ]);
  });

  it("is found by the profile's records (erasure and export) as a conversion", async () => {
    const { store, records } = make();
    await store.open([window('2026-11-01T09:00:00.000Z', { group: 'control-group' })]);
    const listed = await records.list('p-1');
    expect(listed.map((r) => [r.pk, r.kind])).toEqual([['CAMPAIGN_GOAL#p-1', 'conversion']]);
    await records.remove(listed);
    expect(await store.openAt('p-1', 'order.placed', '2026-11-02T00:00:00.000Z', 5)).toEqual([]);
  });
});
