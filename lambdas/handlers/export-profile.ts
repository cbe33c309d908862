import { awsStores } from '../adapters/aws';
import { createExportProfileHandler } from '../app/profiles';

export const handler = createExportProfileHandler(awsStores());
