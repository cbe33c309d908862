import { awsStores } from '../adapters/aws';
import { createCreateOfferHandler } from '../app/decisions';

export const handler = createCreateOfferHandler(awsStores());
