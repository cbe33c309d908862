import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createUnsubscribeLinks } from '../core/consent/links';
import { cachedDecisionCatalog } from '../core/decisions/catalog';
import { systemClock } from '../core/runtime/ports';
import { cachedSegmentCatalog } from '../core/segments/cached-catalog';
import { loadEnv } from '../shared/env';
import { traced } from '../shared/powertools';
import { DynamoConsentStore } from './dynamodb-consent';
import { dynamoPorts } from './dynamodb-ports';
import { DynamoSuppressionList } from './dynamodb-suppression';
import { cachedSecret } from './secrets-manager';

/**
 * The composition roots of the Lambda handlers, one per AWS client: a handler file imports only the roots whose ports
 * its factory takes, so its bundle holds only those clients (Step Functions: `./aws-executions`, EventBridge:
 * `./aws-publisher`). Everything is built once per container from the handler's environment.
 */

/** The DynamoDB-backed ports (and the secrets that key them), for every handler that reads or writes the tables. */
export function awsStores() {
  const env = loadEnv();
  const db = DynamoDBDocumentClient.from(traced(new DynamoDBClient({})), { marshallOptions: { removeUndefinedValues: true } });
  // The privacy key keys profile ids and the suppression list: read on first use, only where it is needed.
  let privacySecret: (() => Promise<string>) | undefined;
  const privacyKey = async () => {
    if (!env.privacyKeySecretArn) throw new Error('WAYMARK_PRIVACY_KEY_SECRET_ARN is not set for this function');
    privacySecret ??= cachedSecret(traced(new SecretsManagerClient({})), env.privacyKeySecretArn);
    return privacySecret();
  };
  const ports = dynamoPorts(db, { profiles: env.profilesTable, journeys: env.journeysTable, runtime: env.runtimeTable }, systemClock, privacyKey);
  // The stored segments compiled, reloaded at most every 30 s (a segment written through the API applies within that).
  const segments = cachedSegmentCatalog(ports.segmentStore, systemClock);
  // The stored offers and placements compiled, likewise reloaded at most every 30 s (the API's writes invalidate this
  // container's copy at once; other containers pick them up within the 30 s).
  const decisions = cachedDecisionCatalog({ offerStore: ports.offerStore, placementStore: ports.placementStore }, systemClock);
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
    ...ports,
    segments,
    /** Streaming segmentation for the router: every routed event re-evaluates the segments it can change. */
    segmentation: { segments, memberships: ports.memberships },
    decisions,
    newId: randomUUID,
    suppression: new DynamoSuppressionList(db, env.runtimeTable, privacyKey),
    consent: new DynamoConsentStore(db, env.profilesTable, systemClock),
    getSecret: async () => getSecret(),
    unsubscribeLinks: createUnsubscribeLinks({ getSecret: async () => getSecret(), publicUrl, clock: systemClock }),
  };
}
