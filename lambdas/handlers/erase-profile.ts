import { awsDependencies } from '../adapters/aws';
import { createEraseProfileHandler } from '../app/profiles';

export const handler = createEraseProfileHandler(awsDependencies());
