import { awsStores } from '../adapters/aws';
import { createGetOfferHandler } from '../app/decisions';

export const handler = createGetOfferHandler(awsStores());
