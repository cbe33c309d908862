import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoConversionStore } from '../../lambdas/adapters/dynamodb-conversions';
import type { ConversionStore, GoalWindow } from '../../lambdas/core/measure/conversions';
import { startDynalite, type LocalDynamo } from '../../lambdas/local/dynalite';
import { MemoryConversionStore } from '../../lambdas/local/memory/conversions';
import { MemoryTable } from '../../lambdas/local/memory/table';

let dynamo: LocalDynamo;
let db: DynamoDBDocumentClient;
let tables = 0;

beforeAll(async () => {
  dynamo = await startDynalite(Array.from({ length: 8 }, (_, i) => `conversions-${i}`), { profileIndexOn: Array.from({ length: 8 }, (_, i) => `conversions-${i}`) });
  db = DynamoDBDocumentClient.from(dynamo.client, { marshallOptions: { removeUndefinedValues: true } });
});
afterAll(() => dynamo?.stop());

/** One contract, two implementations: each case gets a fresh table of its own. */
const implementations: [string, () => { store: ConversionStore; writeLedger: (item: Record<string, unknown>) => Promise<void> }][] = [
  [
    'DynamoConversionStore (dynalite)',
    () => {
      const table = `conversions-${tables++}`;
      return { store: new DynamoConversionStore(db, table), writeLedger: async (item) => void (await db.send(new PutCommand({ TableName: table, Item: item }))) };
    },
  ],
  [
    'MemoryConversionStore',
    () => {
      const table = new MemoryTable('runtime', { profileIndex: true });
      return { store: new MemoryConversionStore(table), writeLedger: async (item) => table.put(item) };
    },
  ],
];

const window = (enteredAt: string, over: Partial<GoalWindow> = {}): GoalWindow => ({
  journeyId: 'quotes',
  profileId: 'p-1',
  executionId: `arn:exec:${enteredAt}`,
  goal: { event: 'order.placed', within: '7d', value: 'properties.total' },
  enteredAt,
  until: new Date(Date.parse(enteredAt) + 7 * 86400_000).toISOString(),
  holdout: false,
  variants: { 'offer-test': 'a' },
  ...over,
});

describe.each(implementations)('%s', (_name, make) => {
  it('answers the open windows entered at or before a time, newest first, bounded', async () => {
    const { store } = make();
    for (const day of ['01', '02', '03', '20']) await store.open(window(`2026-12-${day}T00:00:00.000Z`));
    await store.open(window('2026-12-02T00:00:00.000Z', { goal: { event: 'policy.bought', within: '7d' }, executionId: 'other' }));
    const open = await store.openAt('p-1', 'order.placed', '2026-12-08T12:00:00.000Z', 10);
    expect(open.map((w) => w.enteredAt)).toEqual(['2026-12-03T00:00:00.000Z', '2026-12-02T00:00:00.000Z']);
    expect(open[0]).toEqual(window('2026-12-03T00:00:00.000Z'));
    expect((await store.openAt('p-1', 'order.placed', '2026-12-08T12:00:00.000Z', 1)).map((w) => w.enteredAt)).toEqual(['2026-12-03T00:00:00.000Z']);
    expect(await store.openAt('p-2', 'order.placed', '2026-12-08T12:00:00.000Z', 10)).toEqual([]);
  });

  it('converts a window once', async () => {
    const { store } = make();
    const w = window('2026-12-01T00:00:00.000Z');
    await store.open(w);
    expect(await store.convert(w, { at: '2026-12-02T00:00:00.000Z', eventId: 'o-1', revenue: 80 })).toBe(true);
    expect(await store.convert(w, { at: '2026-12-02T00:00:00.000Z', eventId: 'o-1', revenue: 80 })).toBe(false);
    expect(await store.convert(w, { at: '2026-12-03T00:00:00.000Z', eventId: 'o-2' })).toBe(false);
    // A window that was never opened (or was erased) does not convert.
    expect(await store.convert(window('2026-12-05T00:00:00.000Z'), { at: '2026-12-06T00:00:00.000Z', eventId: 'o-3' })).toBe(false);
  });

  it('finds a click on the run\'s ledger at or before a time', async () => {
    const { store, writeLedger } = make();
    await writeLedger({ pk: 'LEDGER#arn:exec:1', sk: 'reminder', status: 'sent', clickedAt: '2026-12-02T10:00:00.000Z' });
    await writeLedger({ pk: 'LEDGER#arn:exec:1', sk: 'other', status: 'sent' });
    expect(await store.clickedBefore('arn:exec:1', '2026-12-02T09:59:59.999Z')).toBe(false);
    expect(await store.clickedBefore('arn:exec:1', '2026-12-02T10:00:00.000Z')).toBe(true);
    expect(await store.clickedBefore('arn:exec:2', '2026-12-03T00:00:00.000Z')).toBe(false);
  });
});
