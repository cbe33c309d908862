import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoLedger } from '../../lambdas/adapters/dynamodb';
import { DynamoProfileRuns } from '../../lambdas/adapters/dynamodb-runs';
import type { Ledger, LedgerEntry, ProfileRuns } from '../../lambdas/core/runtime/ports';
import { startDynalite, type LocalDynamo } from '../../lambdas/local/dynalite';
import { MemoryLedger } from '../../lambdas/local/memory/runtime';
import { MemoryProfileRuns } from '../../lambdas/local/memory/runs';
import { MemoryTable } from '../../lambdas/local/memory/table';

let dynamo: LocalDynamo;
let db: DynamoDBDocumentClient;
let tables = 0;
const names = Array.from({ length: 6 }, (_, i) => `messaged-${i}`);

beforeAll(async () => {
  dynamo = await startDynalite(names, { profileIndexOn: names });
  db = DynamoDBDocumentClient.from(dynamo.client, { marshallOptions: { removeUndefinedValues: true } });
});
afterAll(() => dynamo?.stop());

/** One contract, two implementations: the ledger written through its port, read back through ProfileRuns. */
const implementations: [string, () => { runs: ProfileRuns; ledger: Ledger }][] = [
  [
    'DynamoProfileRuns (dynalite)',
    () => {
      const table = names[tables++];
      return { runs: new DynamoProfileRuns(db, table), ledger: new DynamoLedger(db, table) };
    },
  ],
  [
    'MemoryProfileRuns',
    () => {
      const table = new MemoryTable('runtime', { profileIndex: true });
      return { runs: new MemoryProfileRuns(table), ledger: new MemoryLedger(table) };
    },
  ],
];

const arn = (journey: string, n: number) => `arn:aws:states:eu-west-1:123456789012:execution:waymark-dev-${journey}:${journey}--${n}`;
const entry = (executionId: string, over: Partial<LedgerEntry> = {}): LedgerEntry => ({
  executionId,
  nodeId: 'send',
  status: 'sent',
  journeyId: 'welcome',
  profileId: 'p-1',
  channel: 'email',
  preparedAt: '2026-12-01T10:00:00.000Z',
  ...over,
});

describe.each(implementations)('%s messagedBy', (_name, make) => {
  it('names the journeys and campaigns that sent the profile a message since their window start', async () => {
    const { runs, ledger } = make();
    await ledger.prepare(entry(arn('welcome', 1)));
    await ledger.prepare(entry('campaign:newsletter:s-20261130T0900Z:p-1', { journeyId: 'campaign:newsletter', preparedAt: '2026-11-30T09:00:00.000Z' }));
    await ledger.prepare(entry(arn('cart', 1), { journeyId: 'cart', preparedAt: '2026-10-01T00:00:00.000Z' }));
    const senders = [
      { journeyId: 'welcome', since: '2026-11-26T00:00:00.000Z' },
      { journeyId: 'campaign:newsletter', since: '2026-11-26T00:00:00.000Z' },
      { journeyId: 'cart', since: '2026-11-26T00:00:00.000Z' },
    ];
    expect(await runs.messagedBy('p-1', senders, 50)).toEqual(['campaign:newsletter', 'welcome']);
    expect(await runs.messagedBy('p-2', senders, 50)).toEqual([]);
    expect(await runs.messagedBy('p-1', [{ journeyId: 'welcome', since: '2026-12-02T00:00:00.000Z' }], 50)).toEqual([]);
  });

  it('does not count messages that failed or were suppressed, nor another campaign with a longer id', async () => {
    const { runs, ledger } = make();
    await ledger.prepare(entry(arn('welcome', 1), { status: 'failed' }));
    await ledger.prepare(entry(arn('welcome', 2), { status: 'suppressed' }));
    await ledger.prepare(entry('campaign:news-weekly:r1:p-1', { journeyId: 'campaign:news-weekly' }));
    const since = '2026-11-01T00:00:00.000Z';
    expect(await runs.messagedBy('p-1', [{ journeyId: 'welcome', since }, { journeyId: 'campaign:news', since }], 50)).toEqual([]);
  });

  it("reads at most maxKeys keys of all journeys, and maxKeys of each campaign, its newest runs first", async () => {
    const { runs, ledger } = make();
    const since = '2026-11-01T00:00:00.000Z';
    await ledger.prepare(entry(arn('alpha', 1), { journeyId: 'alpha' }));
    await ledger.prepare(entry(arn('beta', 1), { journeyId: 'beta' }));
    expect(await runs.messagedBy('p-1', [{ journeyId: 'alpha', since }], 1)).toEqual([]);
    expect(await runs.messagedBy('p-1', [{ journeyId: 'alpha', since }], 2)).toEqual(['alpha']);
    // Many journey messages do not hide a campaign's; an old run of it does not hide its newest.
    await ledger.prepare(entry('campaign:news:s-20260101T0900Z:p-1', { journeyId: 'campaign:news', preparedAt: '2026-01-01T09:00:00.000Z' }));
    await ledger.prepare(entry('campaign:news:s-20261130T0900Z:p-1', { journeyId: 'campaign:news', preparedAt: '2026-11-30T09:00:00.000Z' }));
    expect(await runs.messagedBy('p-1', [{ journeyId: 'campaign:news', since }, { journeyId: 'alpha', since }], 1)).toEqual(['campaign:news']);
  });
});
