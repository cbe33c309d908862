import { awsStores } from '../adapters/aws';
import { createListPlacementsHandler } from '../app/decisions';

export const handler = createListPlacementsHandler(awsStores());
