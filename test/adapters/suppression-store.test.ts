import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoSuppressionList } from '../../lambdas/adapters/dynamodb-suppression';
import { startDynalite, type LocalDynamo } from '../../lambdas/local/dynalite';

const RUNTIME = 'suppression-runtime';
let dynamo: LocalDynamo;
let db: DynamoDBDocumentClient;

beforeAll(async () => {
  dynamo = await startDynalite([RUNTIME]);
  db = DynamoDBDocumentClient.from(dynamo.client, { marshallOptions: { removeUndefinedValues: true } });
});
afterAll(() => dynamo?.stop());

describe('DynamoSuppressionList: addresses normalized and kept as keyed hashes', () => {
  it.each([
    ['a display name', 'Ann <ann@example.com>'],
    ['a display name in quotes, upper case and spaces', '  "Ann Smith" <ANN@Example.COM>  '],
  ])('finds a suppressed address written with %s', async (_what, written) => {
    const list = new DynamoSuppressionList(db, RUNTIME);
    await list.suppress('ann@example.com', 'bounce', '2026-02-01T00:00:00.000Z', 'ses:m-1');
    expect(await list.isSuppressed(written)).toMatchObject({ address: 'ann@example.com', reason: 'bounce' });
  });

  it('suppresses the bare address when the bounce names a display name', async () => {
    const list = new DynamoSuppressionList(db, RUNTIME);
    await list.suppress('Bob <Bob@Example.com>', 'complaint', '2026-02-01T00:00:00.000Z', 'ses:m-2');
    expect(await list.isSuppressed('bob@example.com')).toMatchObject({ address: 'bob@example.com', reason: 'complaint' });
  });

  it('stores no address in the table, only a hash keyed with the privacy key', async () => {
    await new DynamoSuppressionList(db, RUNTIME).suppress('carol@example.com', 'bounce', '2026-02-01T00:00:00.000Z', 'ses:m-3');
    const { Items } = await db.send(new ScanCommand({ TableName: RUNTIME }));
    expect(JSON.stringify(Items)).not.toMatch(/example\.com/);
    // Another key finds nothing: the hash is keyed, not a plain digest anyone can recompute.
    expect(await new DynamoSuppressionList(db, RUNTIME, async () => 'another-stage-key').isSuppressed('carol@example.com')).toBeUndefined();
  });
});
