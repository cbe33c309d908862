import { awsTables } from '../adapters/aws-tables';
import { DynamoJourneyRegistry } from '../adapters/dynamodb';
import { createListJourneysHandler } from '../app/list-journeys';

const { env, db } = awsTables();
export const handler = createListJourneysHandler({ journeys: new DynamoJourneyRegistry(db, env.table('journeys')) });
