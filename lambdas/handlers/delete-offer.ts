import { awsStores } from '../adapters/aws';
import { createDeleteOfferHandler } from '../app/decisions';

export const handler = createDeleteOfferHandler(awsStores());
