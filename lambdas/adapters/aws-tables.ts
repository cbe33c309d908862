import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { EnvKey } from '../core/config/env-keys';
import { metricJourneyCounters } from '../core/measure/metrics';
import { systemClock } from '../core/runtime/ports';
import { loadEnv, MissingEnvironmentError } from '../shared/env';
import { emitJourneyMetric, logger, traced } from '../shared/powertools';
import { DynamoJourneyCounters } from './dynamodb-counters';

/**
 * The DynamoDB composition root: the client, the environment and the counters, for the handlers that build just the
 * stores they use (lambdas/handlers/README.md). `./aws` adds every port (`awsStores()`) for the handlers using many.
 */

/** A privacy key for the functions that do not declare it: any use fails, naming the variable (as when it is unset). */
export const undeclaredPrivacyKey = async (): Promise<string> => {
  throw new MissingEnvironmentError(EnvKey.privacyKeySecretArn);
};

/**
 * The DynamoDB client, for the handlers that build just the stores they use (the journey steps' functions: a bundle
 * then holds only those adapters). The privacy key is `awsPrivacyKey(env)` from `./aws-secrets`, where declared.
 */
export function awsTables() {
  const env = loadEnv();
  const db = DynamoDBDocumentClient.from(traced(new DynamoDBClient({})), { marshallOptions: { removeUndefinedValues: true } });
  return { env, db, clock: systemClock };
}

/**
 * The journey counters in the runtime table, each increment also emitted once as a CloudWatch metric (EMF): every
 * Lambda that counts builds its counters here. A metric that cannot be written is logged, never fails the count.
 */
export function awsJourneyCounters(db: DynamoDBDocumentClient, runtimeTable: string) {
  return metricJourneyCounters(new DynamoJourneyCounters(db, runtimeTable), emitJourneyMetric, (error) =>
    logger.warn('journey metric not emitted', { error: error instanceof Error ? error.message : String(error) }),
  );
}
