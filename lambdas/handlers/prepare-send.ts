import { awsJourneyCounters, awsTables, awsUnsubscribe } from '../adapters/aws';
import { DynamoLedger } from '../adapters/dynamodb';
import { createDynamoProfileStore } from '../adapters/dynamodb-profiles';
import { DynamoSuppressionList } from '../adapters/dynamodb-suppression';
import { createPrepareSendHandler } from '../app/journey-steps';

const { env, db, clock, privacyKey } = awsTables();
export const handler = createPrepareSendHandler({
  profiles: createDynamoProfileStore(db, env.profilesTable, { clock, privacyKey }),
  ledger: new DynamoLedger(db, env.runtimeTable),
  counters: awsJourneyCounters(db, env.runtimeTable),
  clock,
  suppression: new DynamoSuppressionList(db, env.runtimeTable, privacyKey),
  unsubscribeLinks: awsUnsubscribe(env).unsubscribeLinks,
});
