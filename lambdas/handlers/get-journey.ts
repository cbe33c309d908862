import { SFNClient } from '@aws-sdk/client-sfn';
import { awsTables } from '../adapters/aws-tables';
import { DynamoJourneyRegistry } from '../adapters/dynamodb';
import { StepFunctionsVersions } from '../adapters/step-functions-versions';
import { createGetJourneyHandler } from '../app/get-journey';
import { traced } from '../shared/powertools';

const { env, db } = awsTables();
export const handler = createGetJourneyHandler({
  journeys: new DynamoJourneyRegistry(db, env.table('journeys')),
  versions: new StepFunctionsVersions(traced(new SFNClient({}))),
});
