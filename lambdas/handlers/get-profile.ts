import { awsStores } from '../adapters/aws';
import { createGetProfileHandler } from '../app/profiles';

export const handler = createGetProfileHandler(awsStores());
