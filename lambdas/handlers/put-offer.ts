import { awsDependencies } from '../adapters/aws';
import { createPutOfferHandler } from '../app/decisions';

export const handler = createPutOfferHandler(awsDependencies());
