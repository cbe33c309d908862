import { awsStores } from '../adapters/aws';
import { createConfirmUnsubscribeHandler } from '../app/consent';

export const handler = createConfirmUnsubscribeHandler(awsStores());
