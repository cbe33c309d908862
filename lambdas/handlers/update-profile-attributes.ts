import { awsJourneyCounters, awsTables } from '../adapters/aws-tables';
import { awsExecutions } from '../adapters/aws-executions';
import { awsPublisher } from '../adapters/aws-publisher';
import { awsPrivacyKey } from '../adapters/aws-secrets';
import { DynamoEnrollmentStore, DynamoJourneyRegistry } from '../adapters/dynamodb';
import { DynamoConversionStore } from '../adapters/dynamodb-conversions';
import { createDynamoProfileStore } from '../adapters/dynamodb-profiles';
import { DynamoMembershipStore, segmentStore } from '../adapters/dynamodb-segments';
import { createUpdateProfileAttributesHandler } from '../app/profiles';
import { cachedSegmentCatalog } from '../core/segments/cached-catalog';

// The segments an update affects are evaluated as the router does: entries into segment-entered journeys are
// started, measured (conversion windows, counters) and announced on the bus.
const { env, db, clock } = awsTables();
const [profiles, journeys, runtime] = [env.table('profiles'), env.table('journeys'), env.table('runtime')];
export const handler = createUpdateProfileAttributesHandler({
  profiles: createDynamoProfileStore(db, profiles, { clock, privacyKey: awsPrivacyKey(env) }),
  journeys: new DynamoJourneyRegistry(db, journeys),
  segments: cachedSegmentCatalog(segmentStore(db, journeys), clock),
  memberships: new DynamoMembershipStore(db, profiles),
  enrollments: new DynamoEnrollmentStore(db, runtime),
  conversions: new DynamoConversionStore(db, runtime),
  counters: awsJourneyCounters(db, runtime),
  executions: awsExecutions().executions,
  publisher: awsPublisher().publisher,
  clock,
});
