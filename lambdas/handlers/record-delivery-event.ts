import { awsJourneyCounters, awsTables } from '../adapters/aws-tables';
import { awsPrivacyKey } from '../adapters/aws-secrets';
import { DynamoJourneyRegistry, DynamoLedger } from '../adapters/dynamodb';
import { DynamoCampaignRuns } from '../adapters/dynamodb-campaign-runs';
import { createDynamoProfileStore } from '../adapters/dynamodb-profiles';
import { DynamoSuppressionList } from '../adapters/dynamodb-suppression';
import { createRecordDeliveryEventHandler } from '../app/record-delivery-event';

// The privacy key keys the suppression list (bounces, complaints) and names a profile the event creates.
const { env, db, clock } = awsTables();
const privacyKey = awsPrivacyKey(env);
const [profiles, runtime] = [env.table('profiles'), env.table('runtime')];
export const handler = createRecordDeliveryEventHandler({
  suppression: new DynamoSuppressionList(db, runtime, privacyKey),
  ledger: new DynamoLedger(db, runtime),
  journeys: new DynamoJourneyRegistry(db, env.table('journeys')),
  profiles: createDynamoProfileStore(db, profiles, { clock, privacyKey }),
  counters: awsJourneyCounters(db, runtime),
  // Campaign messages' engagement is counted on their run (runtime table, like the ledger).
  campaignRuns: new DynamoCampaignRuns(db, runtime),
  clock,
});
