import { randomUUID } from 'node:crypto';
import { cachedDecisionCatalog } from '../core/decisions/catalog';
import { systemClock } from '../core/runtime/ports';
import { cachedSegmentCatalog } from '../core/segments/cached-catalog';
import { awsPrivacyKey, awsUnsubscribe } from './aws-secrets';
import { DynamoConsentStore } from './dynamodb-consent';
import { awsJourneyCounters, awsTables } from './aws-tables';
import { dynamoPorts, onTable } from './dynamodb-ports';
import { DynamoSuppressionList } from './dynamodb-suppression';

/**
 * The composition roots of the Lambda handlers, one per AWS client: a handler file imports only the roots whose ports
 * its factory takes, so its bundle holds only those clients (Step Functions: `./aws-executions`, EventBridge:
 * `./aws-publisher`, Secrets Manager: `./aws-secrets`). Everything is built once per container from the handler's
 * environment. How to compose a new handler: lambdas/handlers/README.md.
 */

// The DynamoDB client and the counters: in ./aws-tables (a handler importing just those bundles no other store).
export { awsJourneyCounters, awsTables, undeclaredPrivacyKey } from './aws-tables';

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
