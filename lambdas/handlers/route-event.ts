import { awsJourneyCounters, awsTables } from '../adapters/aws-tables';
import { awsExecutions } from '../adapters/aws-executions';
import { awsPublisher } from '../adapters/aws-publisher';
import { awsPrivacyKey } from '../adapters/aws-secrets';
import { DynamoCampaignRegistry } from '../adapters/dynamodb-campaign-registry';
import { DynamoCampaignRuns } from '../adapters/dynamodb-campaign-runs';
import { DynamoEnrollmentStore, DynamoJourneyRegistry, DynamoRejectedEventStore, DynamoWaitIndex } from '../adapters/dynamodb';
import { DynamoCampaignConversionStore } from '../adapters/dynamodb-campaign-conversions';
import { DynamoConversionStore } from '../adapters/dynamodb-conversions';
import { DynamoCapStore } from '../adapters/dynamodb-decisions';
import { DynamoSendCapStore } from '../adapters/dynamodb-governance';
import { createDynamoProfileStore } from '../adapters/dynamodb-profiles';
import { DynamoMembershipStore, segmentStore } from '../adapters/dynamodb-segments';
import { createRouteEventHandler } from '../app/route-event';
import { cachedCampaignGoals } from '../core/campaigns/conversions';
import { cachedSegmentCatalog } from '../core/segments/cached-catalog';
import { deployedCampaignShape } from '../core/campaigns/deployed-shape';

// Only the ports the router takes (RouteDeps), not every store of awsStores(): its bundle holds no decision catalog,
// no consent or suppression store and no unsubscribe links.
const { env, db, clock } = awsTables();
const privacyKey = awsPrivacyKey(env);
const [profiles, journeys, runtime] = [env.table('profiles'), env.table('journeys'), env.table('runtime')];
export const handler = createRouteEventHandler({
  profiles: createDynamoProfileStore(db, profiles, { clock, privacyKey }),
  journeys: new DynamoJourneyRegistry(db, journeys),
  enrollments: new DynamoEnrollmentStore(db, runtime),
  waits: new DynamoWaitIndex(db, runtime),
  rejected: new DynamoRejectedEventStore(db, runtime, privacyKey),
  ...awsExecutions(),
  ...awsPublisher(),
  // The stored segments compiled, reloaded at most every 30 s (a segment written through the API applies within that).
  segmentation: {
    segments: cachedSegmentCatalog(segmentStore(db, journeys), clock),
    memberships: new DynamoMembershipStore(db, profiles),
  },
  caps: new DynamoCapStore(db, runtime),
  sendCaps: new DynamoSendCapStore(db, runtime),
  conversions: new DynamoConversionStore(db, runtime),
  counters: awsJourneyCounters(db, runtime),
  // Campaign goal conversions: the deployed campaigns' goal events (read at most every 30 s), their runs' counters.
  campaignGoals: {
    goals: cachedCampaignGoals(new DynamoCampaignRegistry(db, journeys, deployedCampaignShape), clock),
    store: new DynamoCampaignConversionStore(db, runtime),
    runs: new DynamoCampaignRuns(db, runtime),
  },
  clock,
});
