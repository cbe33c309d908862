import { awsTables, undeclaredPrivacyKey } from '../adapters/aws-tables';
import { createDynamoProfileStore } from '../adapters/dynamodb-profiles';
import { createGetConsentHandler } from '../app/consent';

const { env, db, clock } = awsTables();
export const handler = createGetConsentHandler({
  profiles: createDynamoProfileStore(db, env.table('profiles'), { clock, privacyKey: undeclaredPrivacyKey }),
});
