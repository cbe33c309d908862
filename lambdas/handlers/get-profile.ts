import { awsDependencies } from '../adapters/aws';
import { createGetProfileHandler } from '../app/profiles';

export const handler = createGetProfileHandler(awsDependencies());
