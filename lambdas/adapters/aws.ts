import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { systemClock } from '../core/runtime/ports';
import { loadEnv } from '../shared/env';
import { traced } from '../shared/powertools';
import { dynamoPorts } from './dynamodb-ports';
import { EventBridgePublisher } from './eventbridge';
import { StepFunctionsExecutions } from './step-functions';

/** The AWS implementations of every port, built once per container from the handler's environment. */
export function awsDependencies() {
  const env = loadEnv();
  const db = DynamoDBDocumentClient.from(traced(new DynamoDBClient({})), { marshallOptions: { removeUndefinedValues: true } });
  const sfn = traced(new SFNClient({}));
  return {
    ...dynamoPorts(db, { profiles: env.profilesTable, journeys: env.journeysTable, runtime: env.runtimeTable }, systemClock),
    executions: new StepFunctionsExecutions(sfn),
    get publisher() {
      if (!env.eventBusName) throw new Error('WAYMARK_EVENT_BUS_NAME is not set for this function');
      return new EventBridgePublisher(traced(new EventBridgeClient({})), env.eventBusName);
    },
  };
}
