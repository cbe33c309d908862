import { awsStores } from '../adapters/aws';
import { createUnsubscribeProfileHandler } from '../app/consent';

export const handler = createUnsubscribeProfileHandler(awsStores());
