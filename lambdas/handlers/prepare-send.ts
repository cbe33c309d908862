import { awsStores } from '../adapters/aws';
import { createPrepareSendHandler } from '../app/journey-steps';

export const handler = createPrepareSendHandler(awsStores());
