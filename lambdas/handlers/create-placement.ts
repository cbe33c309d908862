import { awsStores } from '../adapters/aws';
import { createCreatePlacementHandler } from '../app/decisions';

export const handler = createCreatePlacementHandler(awsStores());
