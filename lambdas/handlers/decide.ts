import { randomUUID } from 'node:crypto';
import { awsTables, undeclaredPrivacyKey } from '../adapters/aws-tables';
import { DynamoCapStore, DynamoDecisionLog, offerStore, placementStore } from '../adapters/dynamodb-decisions';
import { createDynamoProfileStore } from '../adapters/dynamodb-profiles';
import { DynamoMembershipStore } from '../adapters/dynamodb-segments';
import { createDecideHandler } from '../app/decisions';
import { cachedDecisionCatalog } from '../core/decisions/catalog';

const { env, db, clock } = awsTables();
const [profiles, journeys, runtime] = [env.table('profiles'), env.table('journeys'), env.table('runtime')];
export const handler = createDecideHandler({
  // The stored offers and placements compiled, reloaded at most every 30 s.
  decisions: cachedDecisionCatalog({ offerStore: offerStore(db, journeys), placementStore: placementStore(db, journeys) }, clock),
  caps: new DynamoCapStore(db, runtime),
  decisionLog: new DynamoDecisionLog(db, runtime, { clock }),
  profiles: createDynamoProfileStore(db, profiles, { clock, privacyKey: undeclaredPrivacyKey }),
  memberships: new DynamoMembershipStore(db, profiles),
  clock,
  newId: randomUUID,
});
