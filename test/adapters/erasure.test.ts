import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createDynamoProfileStore } from '../../lambdas/adapters/dynamodb-profiles';
import type { BusinessEvent } from '../../lambdas/core/events/business-event';
import { startDynalite, type LocalDynamo } from '../../lambdas/local/dynalite';

const TABLE = 'profiles';
const clock = { now: () => new Date('2026-01-05T12:00:00.000Z') };

let dynamo: LocalDynamo;
let db: DynamoDBDocumentClient;

/**
 * dynalite accepts any number of IN operands; DynamoDB takes at most 100 (Expressions.OperatorsAndFunctions.html,
 * Comparators). The client refuses what DynamoDB would, as DynamoDB would.
 */
function refuseLongInLists(client: LocalDynamo['client']): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as { ConditionExpression?: string; FilterExpression?: string };
      for (const expression of [input.ConditionExpression, input.FilterExpression]) {
        for (const [, list] of (expression ?? '').matchAll(/\bIN\s*\(([^)]*)\)/g)) {
          if (list.split(',').length > 100) throw Object.assign(new Error('Invalid ConditionExpression: too many operands for IN'), { name: 'ValidationException' });
        }
      }
      return next(args);
    },
    { step: 'initialize', name: 'refuseLongInLists' },
  );
}

beforeAll(async () => {
  dynamo = await startDynalite([TABLE]);
  refuseLongInLists(dynamo.client);
  db = DynamoDBDocumentClient.from(dynamo.client, { marshallOptions: { removeUndefinedValues: true } });
});
afterAll(() => dynamo?.stop());

const event = (id: string, identities: Record<string, string>, minute: number): BusinessEvent => ({
  id,
  type: 'app.opened',
  source: 'shop',
  time: new Date(Date.UTC(2026, 0, 1, 10, minute)).toISOString(),
  identities,
  properties: {},
});

describe('erasure on DynamoDB (dynalite)', () => {
  it('erases a profile that absorbed 150 others (more than the 100 operands of an IN condition)', async () => {
    const profiles = createDynamoProfileStore(db, TABLE, { clock });
    const owner = await profiles.ingest(event('owner', { email: 'many@example.com' }, 0));
    await Promise.all(Array.from({ length: 150 }, (_, i) => profiles.ingest(event(`device-${i}`, { deviceId: `many-device-${i}` }, 1))));
    // Each login links a device to the owner: the older profile absorbs the device's.
    for (let i = 0; i < 150; i++) await profiles.ingest(event(`login-${i}`, { email: 'many@example.com', deviceId: `many-device-${i}` }, 2));
    expect((await profiles.get(owner.profile.id))?.mergedIds).toHaveLength(150);

    const erased = await profiles.erase(owner.profile.id);
    expect(erased?.profileIds).toHaveLength(151);

    const { Items } = await db.send(new ScanCommand({ TableName: TABLE }));
    expect(JSON.stringify(Items)).not.toMatch(/many@example\.com|many-device-/);
    expect(await profiles.findByIdentity('deviceId', 'many-device-149')).toBeUndefined();
  });
});
