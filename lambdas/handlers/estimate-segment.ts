import { awsDependencies } from '../adapters/aws';
import { createEstimateSegmentHandler } from '../app/segments';

export const handler = createEstimateSegmentHandler(awsDependencies());
