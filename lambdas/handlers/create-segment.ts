import { awsTables } from '../adapters/aws-tables';
import { segmentStore } from '../adapters/dynamodb-segments';
import { createCreateSegmentHandler } from '../app/segments';

const { env, db, clock } = awsTables();
export const handler = createCreateSegmentHandler({ segmentStore: segmentStore(db, env.table('journeys')), clock });
