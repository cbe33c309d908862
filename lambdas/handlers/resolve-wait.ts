import { awsStores } from '../adapters/aws';
import { createResolveWaitHandler } from '../app/journey-steps';

export const handler = createResolveWaitHandler(awsStores());
