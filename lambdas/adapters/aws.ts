import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createUnsubscribeLinks } from '../core/consent/links';
import { systemClock } from '../core/runtime/ports';
import { loadEnv } from '../shared/env';
import { traced } from '../shared/powertools';
import { DynamoConsentStore } from './dynamodb-consent';
import { dynamoPorts } from './dynamodb-ports';
import { DynamoSuppressionList } from './dynamodb-suppression';
import { EventBridgePublisher } from './eventbridge';
import { cachedSecret } from './secrets-manager';
import { StepFunctionsExecutions } from './step-functions';

/** The AWS implementations of every port, built once per container from the handler's environment. */
export function awsDependencies() {
  const env = loadEnv();
  const db = DynamoDBDocumentClient.from(traced(new DynamoDBClient({})), { marshallOptions: { removeUndefinedValues: true } });
  const sfn = traced(new SFNClient({}));
  let publisher: EventBridgePublisher | undefined;
  // Only the functions that make or check unsubscribe links read the secret; the client is built on first use.
  let secret: (() => Promise<string>) | undefined;
  const getSecret = () => {
    if (!env.unsubscribeSecretArn) throw new Error('WAYMARK_UNSUBSCRIBE_SECRET_ARN is not set for this function');
    secret ??= cachedSecret(traced(new SecretsManagerClient({})), env.unsubscribeSecretArn);
    return secret();
  };
  const publicUrl = () => {
    if (!env.publicUrl) throw new Error('WAYMARK_PUBLIC_URL is not set for this function');
    return env.publicUrl;
  };
  return {
    ...dynamoPorts(db, { profiles: env.profilesTable, journeys: env.journeysTable, runtime: env.runtimeTable }, systemClock),
    executions: new StepFunctionsExecutions(sfn),
    suppression: new DynamoSuppressionList(db, env.runtimeTable),
    consent: new DynamoConsentStore(db, env.profilesTable, systemClock),
    getSecret: async () => getSecret(),
    unsubscribeLinks: createUnsubscribeLinks({ getSecret: async () => getSecret(), publicUrl, clock: systemClock }),
    /** Built on first use (only the functions that publish have the bus name), then kept. */
    get publisher() {
      if (!env.eventBusName) throw new Error('WAYMARK_EVENT_BUS_NAME is not set for this function');
      publisher ??= new EventBridgePublisher(traced(new EventBridgeClient({})), env.eventBusName);
      return publisher;
    },
  };
}
