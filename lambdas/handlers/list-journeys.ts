import { awsStores } from '../adapters/aws';
import { createListJourneysHandler } from '../app/list-journeys';

export const handler = createListJourneysHandler(awsStores());
