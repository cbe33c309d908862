import { awsTables } from '../adapters/aws';
import { createDynamoProfileStore } from '../adapters/dynamodb-profiles';
import { DynamoMembershipStore } from '../adapters/dynamodb-segments';
import { createLoadProfileHandler } from '../app/journey-steps';

const { env, db, clock, privacyKey } = awsTables();
export const handler = createLoadProfileHandler({
  profiles: createDynamoProfileStore(db, env.profilesTable, { clock, privacyKey }),
  memberships: new DynamoMembershipStore(db, env.profilesTable),
});
