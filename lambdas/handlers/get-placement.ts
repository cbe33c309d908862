import { awsStores } from '../adapters/aws';
import { createGetPlacementHandler } from '../app/decisions';

export const handler = createGetPlacementHandler(awsStores());
