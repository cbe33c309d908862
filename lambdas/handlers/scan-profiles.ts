import { awsJourneyCounters, awsTables, undeclaredPrivacyKey } from '../adapters/aws-tables';
import { awsExecutions } from '../adapters/aws-executions';
import { awsPublisher } from '../adapters/aws-publisher';
import { DynamoEnrollmentStore, DynamoJourneyRegistry } from '../adapters/dynamodb';
import { DynamoConversionStore } from '../adapters/dynamodb-conversions';
import { createDynamoProfileStore } from '../adapters/dynamodb-profiles';
import { DynamoMembershipStore, DynamoProfileScanner, DynamoSnapshotStore, segmentStore } from '../adapters/dynamodb-segments';
import { createScanProfilesHandler } from '../app/segments';
import { cachedSegmentCatalog } from '../core/segments/cached-catalog';

// Snapshot pages write members; re-check pages evaluate, announce and enter journeys (measured as the router's).
const { env, db, clock } = awsTables();
const [profiles, journeys, runtime] = [env.table('profiles'), env.table('journeys'), env.table('runtime')];
const segments = segmentStore(db, journeys);
export const handler = createScanProfilesHandler({
  profileScanner: new DynamoProfileScanner(db, profiles, clock),
  profiles: createDynamoProfileStore(db, profiles, { clock, privacyKey: undeclaredPrivacyKey }),
  memberships: new DynamoMembershipStore(db, profiles),
  snapshots: new DynamoSnapshotStore(db, runtime),
  segmentStore: segments,
  segments: cachedSegmentCatalog(segments, clock),
  journeys: new DynamoJourneyRegistry(db, journeys),
  enrollments: new DynamoEnrollmentStore(db, runtime),
  conversions: new DynamoConversionStore(db, runtime),
  counters: awsJourneyCounters(db, runtime),
  executions: awsExecutions().executions,
  publisher: awsPublisher().publisher,
  clock,
});
