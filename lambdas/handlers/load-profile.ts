import { awsTables, undeclaredPrivacyKey } from '../adapters/aws-tables';
import { createDynamoProfileStore } from '../adapters/dynamodb-profiles';
import { DynamoMembershipStore } from '../adapters/dynamodb-segments';
import { createLoadProfileHandler } from '../app/journey-steps';

const { env, db, clock } = awsTables();
const privacyKey = undeclaredPrivacyKey;
export const handler = createLoadProfileHandler({
  profiles: createDynamoProfileStore(db, env.table('profiles'), { clock, privacyKey }),
  memberships: new DynamoMembershipStore(db, env.table('profiles')),
});
