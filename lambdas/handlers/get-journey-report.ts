import { DynamoJourneyCounters } from '../adapters/dynamodb-counters';
import { DynamoJourneyRegistry } from '../adapters/dynamodb';
import { awsTables } from '../adapters/aws';
import { createGetJourneyReportHandler } from '../app/journey-report';

const { env, db, clock } = awsTables();
export const handler = createGetJourneyReportHandler({
  journeys: new DynamoJourneyRegistry(db, env.journeysTable),
  counters: new DynamoJourneyCounters(db, env.runtimeTable),
  clock,
});
