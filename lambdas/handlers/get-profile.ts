import { awsTables, undeclaredPrivacyKey } from '../adapters/aws-tables';
import { createDynamoProfileStore } from '../adapters/dynamodb-profiles';
import { DynamoMembershipStore } from '../adapters/dynamodb-segments';
import { createGetProfileHandler } from '../app/profiles';

const { env, db, clock } = awsTables();
const profiles = env.table('profiles');
export const handler = createGetProfileHandler({
  profiles: createDynamoProfileStore(db, profiles, { clock, privacyKey: undeclaredPrivacyKey }),
  memberships: new DynamoMembershipStore(db, profiles),
});
