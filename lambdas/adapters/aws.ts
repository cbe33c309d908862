import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { EnvKey } from '../core/config/env-keys';
import { cachedDecisionCatalog } from '../core/decisions/catalog';
import { systemClock } from '../core/runtime/ports';
import { cachedSegmentCatalog } from '../core/segments/cached-catalog';
import { metricJourneyCounters } from '../core/measure/metrics';
import { loadEnv, MissingEnvironmentError } from '../shared/env';
import { emitJourneyMetric, logger, traced } from '../shared/powertools';
import { awsPrivacyKey, awsUnsubscribe } from './aws-secrets';
import { DynamoConsentStore } from './dynamodb-consent';
import { DynamoJourneyCounters } from './dynamodb-counters';
import { dynamoPorts, onTable } from './dynamodb-ports';
import { DynamoSuppressionList } from './dynamodb-suppression';

/**
 * The composition roots of the Lambda handlers, one per AWS client: a handler file imports only the roots whose ports
 * its factory takes, so its bundle holds only those clients (Step Functions: `./aws-executions`, EventBridge:
 * `./aws-publisher`, Secrets Manager: `./aws-secrets`). Everything is built once per container from the handler's
 * environment. How to compose a new handler: lambdas/handlers/README.md.
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

/** Every DynamoDB-backed port (and the secrets that key them), for the handlers that use many of them. */
export function awsStores() {
  const { env, db } = awsTables();
  // The privacy key keys profile ids and the suppression list: read on first use, only where it is declared.
  const privacyKey = awsPrivacyKey(env);
  // Only the declared tables' names are set: the other tables' ports fail when used, naming the missing variable.
  const ports = dynamoPorts(db, env.tables, systemClock, privacyKey);
  // The stored segments compiled, reloaded at most every 30 s (a segment written through the API applies within that).
  const segments = cachedSegmentCatalog(ports.segmentStore, systemClock);
  // The stored offers and placements compiled, likewise reloaded at most every 30 s (the API's writes invalidate this
  // container's copy at once; other containers pick them up within the 30 s).
  const decisions = cachedDecisionCatalog({ offerStore: ports.offerStore, placementStore: ports.placementStore }, systemClock);
  return {
    ...ports,
    segments,
    /** Streaming segmentation for the router: every routed event re-evaluates the segments it can change. */
    segmentation: { segments, memberships: ports.memberships },
    decisions,
    newId: randomUUID,
    suppression: onTable(env.tables, 'runtime', (t) => new DynamoSuppressionList(db, t, privacyKey)),
    /** Journey counters (entries, exits, engagement, conversions), emitted as metrics too: the counting sites use them. */
    counters: onTable(env.tables, 'runtime', (t) => awsJourneyCounters(db, t)),
    consent: onTable(env.tables, 'profiles', (t) => new DynamoConsentStore(db, t, systemClock)),
    ...awsUnsubscribe(env),
  };
}
