import { awsDependencies } from '../adapters/aws';
import { createUpdateProfileAttributesHandler } from '../app/profiles';

export const handler = createUpdateProfileAttributesHandler(awsDependencies());
