import { randomUUID } from 'node:crypto';
import { awsTables } from '../adapters/aws-tables';
import { awsExecutions } from '../adapters/aws-executions';
import { DynamoSnapshotStore, segmentStore } from '../adapters/dynamodb-segments';
import { createEvaluateSegmentHandler } from '../app/segments';

const { env, db, clock } = awsTables();
export const handler = createEvaluateSegmentHandler({
  segmentStore: segmentStore(db, env.table('journeys')),
  snapshots: new DynamoSnapshotStore(db, env.table('runtime')),
  audienceJobs: awsExecutions().audienceJobs,
  clock,
  newId: randomUUID,
});
