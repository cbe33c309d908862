import { awsDependencies } from '../adapters/aws';
import { createDeletePlacementHandler } from '../app/decisions';

export const handler = createDeletePlacementHandler(awsDependencies());
