import { awsStores } from '../adapters/aws';
import { createListOffersHandler } from '../app/decisions';

export const handler = createListOffersHandler(awsStores());
