import { awsDependencies } from '../adapters/aws';
import { createListSegmentsHandler } from '../app/segments';

export const handler = createListSegmentsHandler(awsDependencies());
