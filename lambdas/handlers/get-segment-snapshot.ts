import { awsDependencies } from '../adapters/aws';
import { createGetSnapshotHandler } from '../app/segments';

export const handler = createGetSnapshotHandler(awsDependencies());
