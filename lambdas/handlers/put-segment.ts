import { awsTables } from '../adapters/aws-tables';
import { segmentStore } from '../adapters/dynamodb-segments';
import { createPutSegmentHandler } from '../app/segments';

const { env, db, clock } = awsTables();
export const handler = createPutSegmentHandler({ segmentStore: segmentStore(db, env.table('journeys')), clock });
