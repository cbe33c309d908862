import { awsDependencies } from '../adapters/aws';
import { createIngestEventHandler } from '../app/ingest-event';

const deps = awsDependencies();
export const handler = createIngestEventHandler({ publisher: deps.publisher, clock: deps.clock });
