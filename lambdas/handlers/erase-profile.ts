import { awsJourneyCounters, awsTables } from '../adapters/aws-tables';
import { awsExecutions } from '../adapters/aws-executions';
import { awsPrivacyKey } from '../adapters/aws-secrets';
import { DynamoProfileRecords, DynamoRejectedEventStore } from '../adapters/dynamodb';
import { createDynamoProfileStore } from '../adapters/dynamodb-profiles';
import { createEraseProfileHandler } from '../app/profiles';

// The privacy key finds the rejected events naming the profile (markers keyed by hashes of its identities).
const { env, db, clock } = awsTables();
const privacyKey = awsPrivacyKey(env);
const [profiles, runtime] = [env.table('profiles'), env.table('runtime')];
export const handler = createEraseProfileHandler({
  profiles: createDynamoProfileStore(db, profiles, { clock, privacyKey }),
  records: new DynamoProfileRecords(db, runtime),
  rejected: new DynamoRejectedEventStore(db, runtime, privacyKey),
  executions: awsExecutions().executions,
  // Each run the erasure stops is counted `exited` (reason `erased`).
  counters: awsJourneyCounters(db, runtime),
  clock,
});
