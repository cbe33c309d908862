import { awsStores } from '../adapters/aws';
import { createListRejectedEventsHandler } from '../app/list-rejected-events';

export const handler = createListRejectedEventsHandler(awsStores());
