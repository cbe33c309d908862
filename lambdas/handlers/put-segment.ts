import { awsStores } from '../adapters/aws';
import { createPutSegmentHandler } from '../app/segments';

export const handler = createPutSegmentHandler(awsStores());
