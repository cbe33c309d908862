import { awsDependencies } from '../adapters/aws';
import { createDecideHandler } from '../app/decisions';

export const handler = createDecideHandler(awsDependencies());
