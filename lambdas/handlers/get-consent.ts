import { awsStores } from '../adapters/aws';
import { createGetConsentHandler } from '../app/consent';

export const handler = createGetConsentHandler(awsStores());
