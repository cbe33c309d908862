import { awsTables } from '../adapters/aws-tables';
import { DynamoJourneyRegistry } from '../adapters/dynamodb';
import { segmentStore } from '../adapters/dynamodb-segments';
import { createDeleteSegmentHandler } from '../app/segments';

// The journey registry: a segment a journey uses is not deleted.
const { env, db } = awsTables();
const journeys = env.table('journeys');
export const handler = createDeleteSegmentHandler({ segmentStore: segmentStore(db, journeys), journeys: new DynamoJourneyRegistry(db, journeys) });
