import { awsDependencies } from '../adapters/aws';
import { createDeleteOfferHandler } from '../app/decisions';

export const handler = createDeleteOfferHandler(awsDependencies());
