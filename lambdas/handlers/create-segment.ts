import { awsDependencies } from '../adapters/aws';
import { createCreateSegmentHandler } from '../app/segments';

export const handler = createCreateSegmentHandler(awsDependencies());
