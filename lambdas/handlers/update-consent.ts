import { awsStores } from '../adapters/aws';
import { createUpdateConsentHandler } from '../app/consent';

export const handler = createUpdateConsentHandler(awsStores());
