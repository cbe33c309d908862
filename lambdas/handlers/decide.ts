import { awsStores } from '../adapters/aws';
import { createDecideHandler } from '../app/decisions';

export const handler = createDecideHandler(awsStores());
