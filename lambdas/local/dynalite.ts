import { fork } from 'node:child_process';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { ProfileIndex, TableKeys } from '../core/config/env-keys';

export interface LocalDynamo {
  endpoint: string;
  client: DynamoDBClient;
  stop(): Promise<void>;
}

export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** A DynamoDB client for a local endpoint, with enough keep-alive sockets for a busy local stack. */
export function localDynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 5,
    requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: 128 }) }),
  });
}

/**
 * Starts an in-memory dynalite in a child process (so it runs on its own core) on a free loopback port,
 * and creates the tables.
 */
export async function startDynalite(tables: readonly string[], options: { profileIndexOn?: readonly string[] } = {}): Promise<LocalDynamo> {
  const child = fork(join(__dirname, 'dynalite-process.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: { port: number }) => resolve(message.port));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`dynalite exited with code ${code}`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = localDynamoClient(endpoint);
  for (const TableName of tables) {
    const indexed = options.profileIndexOn?.includes(TableName) ?? false;
    await client.send(
      new CreateTableCommand({
        TableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: TableKeys.partitionKey, AttributeType: 'S' },
          { AttributeName: TableKeys.sortKey, AttributeType: 'S' },
          ...(indexed ? [{ AttributeName: ProfileIndex.partitionKey, AttributeType: 'S' as const }] : []),
        ],
        KeySchema: [
          { AttributeName: TableKeys.partitionKey, KeyType: 'HASH' },
          { AttributeName: TableKeys.sortKey, KeyType: 'RANGE' },
        ],
        // The same index as the data stack's runtime table (lib/data-stack.ts).
        ...(indexed
          ? {
              GlobalSecondaryIndexes: [
                {
                  IndexName: ProfileIndex.name,
                  KeySchema: [
                    { AttributeName: ProfileIndex.partitionKey, KeyType: 'HASH' },
                    { AttributeName: ProfileIndex.sortKey, KeyType: 'RANGE' },
                  ],
                  Projection: { ProjectionType: 'KEYS_ONLY' },
                },
              ],
            }
          : {}),
      }),
    );
  }
  return {
    endpoint,
    client,
    stop: async () => {
      client.destroy();
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill();
      await exited;
    },
  };
}
