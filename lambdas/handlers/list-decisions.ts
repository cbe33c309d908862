import { awsStores } from '../adapters/aws';
import { createListDecisionsHandler } from '../app/decisions';

export const handler = createListDecisionsHandler(awsStores());
