import { awsDependencies } from '../adapters/aws';
import { createScanProfilesHandler } from '../app/segments';

export const handler = createScanProfilesHandler(awsDependencies());
