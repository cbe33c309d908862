import { awsDependencies } from '../adapters/aws';
import { createEvaluateSegmentHandler } from '../app/segments';

export const handler = createEvaluateSegmentHandler(awsDependencies());
