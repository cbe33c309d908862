import { awsPublisher } from '../adapters/aws-publisher';
import { createIngestEventHandler } from '../app/ingest-event';

export const handler = createIngestEventHandler(awsPublisher());
