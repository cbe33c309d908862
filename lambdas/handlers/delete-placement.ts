import { awsStores } from '../adapters/aws';
import { createDeletePlacementHandler } from '../app/decisions';

export const handler = createDeletePlacementHandler(awsStores());
