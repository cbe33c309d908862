import { awsTables, undeclaredPrivacyKey } from '../adapters/aws-tables';
import { createDynamoProfileStore } from '../adapters/dynamodb-profiles';
import { createFindProfileHandler } from '../app/profiles';

// No privacy key declared: finding reads the identity items (the key only names a new profile).
const { env, db, clock } = awsTables();
export const handler = createFindProfileHandler({
  profiles: createDynamoProfileStore(db, env.table('profiles'), { clock, privacyKey: undeclaredPrivacyKey }),
});
