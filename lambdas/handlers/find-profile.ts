import { awsStores } from '../adapters/aws';
import { createFindProfileHandler } from '../app/profiles';

export const handler = createFindProfileHandler(awsStores());
