import { awsStores } from '../adapters/aws';
import { createListSegmentsHandler } from '../app/segments';

export const handler = createListSegmentsHandler(awsStores());
