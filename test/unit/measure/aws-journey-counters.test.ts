import '../app/quiet-powertools';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { awsJourneyCounters } from '../../../lambdas/adapters/aws';
import { COUNTER } from '../../../lambdas/core/measure/counters';

/** The EMF records written to stdout while `run` runs (Powertools metrics switched on for it). */
async function emfRecords(run: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const previous = process.env.POWERTOOLS_METRICS_DISABLED;
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  const lines: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    await run().catch(() => undefined);
  } finally {
    write.mockRestore();
    process.env.POWERTOOLS_METRICS_DISABLED = previous;
  }
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => '_aws' in r);
}

describe('awsJourneyCounters (the counters every counting Lambda builds)', () => {
  const db = mockClient(DynamoDBDocumentClient);
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
  afterEach(() => db.reset());

  it('adds the increment to the runtime table, then writes one EMF record of it', async () => {
    db.on(UpdateCommand).resolves({});
    const counters = awsJourneyCounters(client, 'runtime');
    const records = await emfRecords(() => counters.add([{ journeyId: 'welcome', day: '2026-12-03', name: COUNTER.entered }]));
    expect(db.commandCalls(UpdateCommand)).toHaveLength(1);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ Journey: 'welcome', Entered: 1, service: 'waymark' });
  });

  it('writes no metric when DynamoDB refuses the increment', async () => {
    db.on(UpdateCommand).rejects(Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' }));
    const counters = awsJourneyCounters(client, 'runtime');
    const records = await emfRecords(() => counters.add([{ journeyId: 'welcome', day: '2026-12-03', name: COUNTER.entered }]));
    expect(records).toEqual([]);
  });
});
