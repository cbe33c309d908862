import { randomUUID } from 'node:crypto';
import { awsTables, undeclaredPrivacyKey } from '../adapters/aws-tables';
import { DynamoCapStore, DynamoDecisionLog, offerStore, placementStore } from '../adapters/dynamodb-decisions';
import { createDynamoProfileStore } from '../adapters/dynamodb-profiles';
import { DynamoMembershipStore } from '../adapters/dynamodb-segments';
import { createDecideStepHandler } from '../app/journey-steps';
import { cachedDecisionCatalog } from '../core/decisions/catalog';

const { env, db, clock } = awsTables();
const privacyKey = undeclaredPrivacyKey;
export const handler = createDecideStepHandler({
  // The stored offers and placements compiled, reloaded at most every 30 s (as for the decisions API).
  decisions: cachedDecisionCatalog(
    { offerStore: offerStore(db, env.table('journeys')), placementStore: placementStore(db, env.table('journeys')) },
    clock,
  ),
  caps: new DynamoCapStore(db, env.table('runtime')),
  decisionLog: new DynamoDecisionLog(db, env.table('runtime'), { clock }),
  profiles: createDynamoProfileStore(db, env.table('profiles'), { clock, privacyKey }),
  memberships: new DynamoMembershipStore(db, env.table('profiles')),
  clock,
  newId: randomUUID,
});
