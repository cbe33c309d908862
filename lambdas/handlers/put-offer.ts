import { awsStores } from '../adapters/aws';
import { createPutOfferHandler } from '../app/decisions';

export const handler = createPutOfferHandler(awsStores());
