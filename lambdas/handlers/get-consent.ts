import { awsDependencies } from '../adapters/aws';
import { createGetConsentHandler } from '../app/consent';

export const handler = createGetConsentHandler(awsDependencies());
