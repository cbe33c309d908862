import { awsStores } from '../adapters/aws';
import { createPutPlacementHandler } from '../app/decisions';

export const handler = createPutPlacementHandler(awsStores());
