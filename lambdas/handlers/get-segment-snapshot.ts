import { awsTables } from '../adapters/aws-tables';
import { DynamoSnapshotStore } from '../adapters/dynamodb-segments';
import { createGetSnapshotHandler } from '../app/segments';

const { env, db } = awsTables();
export const handler = createGetSnapshotHandler({ snapshots: new DynamoSnapshotStore(db, env.table('runtime')) });
