import { awsTables } from '../adapters/aws-tables';
import { segmentStore } from '../adapters/dynamodb-segments';
import { createGetSegmentHandler } from '../app/segments';

const { env, db } = awsTables();
export const handler = createGetSegmentHandler({ segmentStore: segmentStore(db, env.table('journeys')) });
