import { awsTables, undeclaredPrivacyKey } from '../adapters/aws-tables';
import { DynamoConsentStore } from '../adapters/dynamodb-consent';
import { createDynamoProfileStore } from '../adapters/dynamodb-profiles';
import { createUpdateConsentHandler } from '../app/consent';

const { env, db, clock } = awsTables();
const profiles = env.table('profiles');
export const handler = createUpdateConsentHandler({
  profiles: createDynamoProfileStore(db, profiles, { clock, privacyKey: undeclaredPrivacyKey }),
  consent: new DynamoConsentStore(db, profiles, clock),
  clock,
});
