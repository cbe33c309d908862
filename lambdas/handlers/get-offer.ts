import { awsDependencies } from '../adapters/aws';
import { createGetOfferHandler } from '../app/decisions';

export const handler = createGetOfferHandler(awsDependencies());
