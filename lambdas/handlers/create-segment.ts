import { awsStores } from '../adapters/aws';
import { createCreateSegmentHandler } from '../app/segments';

export const handler = createCreateSegmentHandler(awsStores());
