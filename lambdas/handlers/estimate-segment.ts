import { awsStores } from '../adapters/aws';
import { createEstimateSegmentHandler } from '../app/segments';

export const handler = createEstimateSegmentHandler(awsStores());
