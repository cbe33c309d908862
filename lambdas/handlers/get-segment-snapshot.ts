import { awsStores } from '../adapters/aws';
import { createGetSnapshotHandler } from '../app/segments';

export const handler = createGetSnapshotHandler(awsStores());
