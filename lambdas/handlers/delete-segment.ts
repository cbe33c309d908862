import { awsStores } from '../adapters/aws';
import { createDeleteSegmentHandler } from '../app/segments';

export const handler = createDeleteSegmentHandler(awsStores());
