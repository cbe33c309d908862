import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoJourneyCounters } from '../../lambdas/adapters/dynamodb-counters';
import { COUNTER, type CounterIncrement, type JourneyCounters } from '../../lambdas/core/measure/counters';
import { COUNTER_SHARDS, counterPartitionKey } from '../../lambdas/core/measure/keys';
import { startDynalite, type LocalDynamo } from '../../lambdas/local/dynalite';
import { memoryJourneyCounters, memoryPorts } from '../../lambdas/local/memory-ports';
import { VirtualClock } from '../../lambdas/local/virtual-clock';

const RUNTIME = 'counters-runtime';
let dynamo: LocalDynamo;
let db: DynamoDBDocumentClient;

beforeAll(async () => {
  dynamo = await startDynalite([RUNTIME]);
  db = DynamoDBDocumentClient.from(dynamo.client, { marshallOptions: { removeUndefinedValues: true } });
});
afterAll(() => dynamo?.stop());

const stores: [string, () => JourneyCounters][] = [
  ['DynamoJourneyCounters (dynalite)', () => new DynamoJourneyCounters(db, RUNTIME)],
  ['memoryJourneyCounters', () => memoryJourneyCounters(memoryPorts(new VirtualClock('2026-12-01T00:00:00Z')))],
];

describe.each(stores)('%s', (_name, make) => {
  it('sums every shard of a counter, per day and dimensions, within the window only', async () => {
    const counters = make();
    const j = `j-${Math.random().toString(36).slice(2)}`;
    await counters.add([
      { journeyId: j, day: '2026-12-01', name: COUNTER.entered },
      { journeyId: j, day: '2026-12-01', name: COUNTER.entered },
      { journeyId: j, day: '2026-12-02', name: COUNTER.entered },
      { journeyId: j, day: '2026-12-01', name: COUNTER.sent, dims: { node: 'n1', channel: 'email' } },
      { journeyId: j, day: '2026-12-01', name: COUNTER.revenue, dims: { variant: 'a' }, by: 12.5 },
      { journeyId: j, day: '2026-12-03', name: COUNTER.entered },
      { journeyId: 'other', day: '2026-12-01', name: COUNTER.entered },
    ]);
    const totals = await counters.read(j, '2026-12-01', '2026-12-02');
    expect(totals).toEqual(
      expect.arrayContaining([
        { day: '2026-12-01', name: 'entered', dims: {}, value: 2 },
        { day: '2026-12-02', name: 'entered', dims: {}, value: 1 },
        { day: '2026-12-01', name: 'sent', dims: { channel: 'email', node: 'n1' }, value: 1 },
        { day: '2026-12-01', name: 'revenue', dims: { variant: 'a' }, value: 12.5 },
      ]),
    );
    expect(totals).toHaveLength(4);
  });

  it('keeps dimension values that look like separators or prototype names apart', async () => {
    const counters = make();
    const j = `j-${Math.random().toString(36).slice(2)}`;
    const reasons = ['a#b', 'a&b=c', '__proto__', "it's (odd)*", 'constructor'];
    await counters.add(reasons.map((reason) => ({ journeyId: j, day: '2026-12-01', name: COUNTER.suppressed, dims: { node: 'n', reason } })));
    const totals = await counters.read(j, '2026-12-01', '2026-12-01');
    expect(totals.map((t) => t.dims.reason).sort()).toEqual([...reasons].sort());
    expect(totals.every((t) => t.value === 1)).toBe(true);
  });

  it('refuses an increment that is not a day or a known counter, and a reversed or too long window', async () => {
    const counters = make();
    await expect(counters.add([{ journeyId: 'j', day: '2026-13-01', name: COUNTER.entered }])).rejects.toThrow(/day/);
    await expect(counters.add([{ journeyId: 'j', day: '2026-12-01', name: 'nope' as never }])).rejects.toThrow(/unknown counter/);
    await expect(counters.read('j', '2026-12-02', '2026-12-01')).rejects.toThrow(/before/);
    await expect(counters.read('j', '2024-01-01', '2026-12-01')).rejects.toThrow(/at most/);
  });
});

describe('DynamoJourneyCounters under concurrency', () => {
  it('counts 2,000 concurrent increments of one journey exactly, spread over every shard', async () => {
    const j = 'busy-journey';
    const writers = Array.from({ length: 20 }, () => new DynamoJourneyCounters(db, RUNTIME));
    const batch = (i: number): CounterIncrement[] =>
      Array.from({ length: 25 }, (_, k) => ({ journeyId: j, day: '2026-12-01', name: COUNTER.sent, dims: { node: `n${(i + k) % 2}`, channel: 'email' } }));
    // 20 writers × 4 calls × 25 increments, all at once: ADD on shared items must not lose one.
    await Promise.all(writers.flatMap((w, i) => [0, 1, 2, 3].map((c) => w.add(batch(i * 4 + c)))));
    const totals = await new DynamoJourneyCounters(db, RUNTIME).read(j, '2026-12-01', '2026-12-01');
    expect(totals.reduce((s, t) => s + t.value, 0)).toBe(2000);
    expect(totals.map((t) => [t.dims.node, t.value]).sort()).toEqual([
      ['n0', 1000],
      ['n1', 1000],
    ]);
    const used = await Promise.all(
      Array.from({ length: COUNTER_SHARDS }, (_, s) =>
        db.send(new QueryCommand({ TableName: RUNTIME, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': counterPartitionKey(j, s) } })),
      ),
    );
    expect(used.filter((page) => (page.Items ?? []).length > 0)).toHaveLength(COUNTER_SHARDS);
  });

  it('pages through a shard holding more counters than one Query page returns', async () => {
    const j = 'wide-journey';
    // Every increment to shard 0, with long dimension values: more than 1 MB in one partition, so Query pages.
    const counters = new DynamoJourneyCounters(db, RUNTIME, () => 0);
    const long = 'x'.repeat(900);
    const increments = Array.from({ length: 1300 }, (_, i) => ({ journeyId: j, day: '2026-12-01', name: COUNTER.suppressed, dims: { node: 'n', reason: `${long}${i}` } }));
    await counters.add(increments);
    const totals = await counters.read(j, '2026-12-01', '2026-12-01');
    expect(totals).toHaveLength(1300);
  });
});
