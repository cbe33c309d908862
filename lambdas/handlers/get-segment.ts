import { awsStores } from '../adapters/aws';
import { createGetSegmentHandler } from '../app/segments';

export const handler = createGetSegmentHandler(awsStores());
