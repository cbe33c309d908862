import { DynamoJourneyCounters } from '../adapters/dynamodb-counters';
import { DynamoJourneyRegistry } from '../adapters/dynamodb';
import { awsTables } from '../adapters/aws-tables';
import { createGetJourneyReportHandler } from '../app/journey-report';

const { env, db, clock } = awsTables();
export const handler = createGetJourneyReportHandler({
  journeys: new DynamoJourneyRegistry(db, env.table('journeys')),
  counters: new DynamoJourneyCounters(db, env.table('runtime')),
  clock,
});
