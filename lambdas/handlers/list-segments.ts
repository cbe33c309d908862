import { awsTables } from '../adapters/aws-tables';
import { segmentStore } from '../adapters/dynamodb-segments';
import { createListSegmentsHandler } from '../app/segments';

const { env, db } = awsTables();
export const handler = createListSegmentsHandler({ segmentStore: segmentStore(db, env.table('journeys')) });
