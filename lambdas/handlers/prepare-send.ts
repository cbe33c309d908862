import { awsTables, awsUnsubscribe } from '../adapters/aws';
import { DynamoLedger } from '../adapters/dynamodb';
import { DynamoJourneyCounters } from '../adapters/dynamodb-counters';
import { createDynamoProfileStore } from '../adapters/dynamodb-profiles';
import { DynamoSuppressionList } from '../adapters/dynamodb-suppression';
import { createPrepareSendHandler } from '../app/journey-steps';

const { env, db, clock, privacyKey } = awsTables();
export const handler = createPrepareSendHandler({
  profiles: createDynamoProfileStore(db, env.table('profiles'), { clock, privacyKey }),
  ledger: new DynamoLedger(db, env.table('runtime')),
  counters: new DynamoJourneyCounters(db, env.table('runtime')),
  clock,
  suppression: new DynamoSuppressionList(db, env.table('runtime'), privacyKey),
  unsubscribeLinks: awsUnsubscribe(env).unsubscribeLinks,
});
