import { awsJourneyCounters, awsTables } from '../adapters/aws-tables';
import { awsExecutions } from '../adapters/aws-executions';
import { awsPublisher } from '../adapters/aws-publisher';
import { awsPrivacyKey } from '../adapters/aws-secrets';
import { DynamoEnrollmentStore, DynamoJourneyRegistry, DynamoRejectedEventStore, DynamoWaitIndex } from '../adapters/dynamodb';
import { DynamoConversionStore } from '../adapters/dynamodb-conversions';
import { DynamoCapStore } from '../adapters/dynamodb-decisions';
import { DynamoSendCapStore } from '../adapters/dynamodb-governance';
import { createDynamoProfileStore } from '../adapters/dynamodb-profiles';
import { DynamoMembershipStore, segmentStore } from '../adapters/dynamodb-segments';
import { createRouteEventHandler } from '../app/route-event';
import { cachedSegmentCatalog } from '../core/segments/cached-catalog';

// Only the stores the router uses (not awsStores()): no rules, offers or unsubscribe links, so no zod in its bundle.
const { env, db, clock } = awsTables();
const privacyKey = awsPrivacyKey(env);
const runtime = env.table('runtime');
// The stored segments compiled, reloaded at most every 30 s (a segment written through the API applies within that).
const segments = cachedSegmentCatalog(segmentStore(db, env.table('journeys')), clock);
export const handler = createRouteEventHandler({
  profiles: createDynamoProfileStore(db, env.table('profiles'), { clock, privacyKey }),
  journeys: new DynamoJourneyRegistry(db, env.table('journeys')),
  enrollments: new DynamoEnrollmentStore(db, runtime),
  waits: new DynamoWaitIndex(db, runtime),
  rejected: new DynamoRejectedEventStore(db, runtime, privacyKey),
  ...awsExecutions(),
  ...awsPublisher(),
  clock,
  segmentation: { segments, memberships: new DynamoMembershipStore(db, env.table('profiles')) },
  caps: new DynamoCapStore(db, runtime),
  sendCaps: new DynamoSendCapStore(db, runtime),
  conversions: new DynamoConversionStore(db, runtime),
  counters: awsJourneyCounters(db, runtime),
});
