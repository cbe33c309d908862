import { awsTables, undeclaredPrivacyKey } from '../adapters/aws-tables';
import { createDynamoProfileStore } from '../adapters/dynamodb-profiles';
import { createResolveWaitHandler } from '../app/journey-steps';

const { env, db, clock } = awsTables();
const privacyKey = undeclaredPrivacyKey;
const profiles = createDynamoProfileStore(db, env.table('profiles'), { clock, privacyKey });
export const handler = createResolveWaitHandler({ profiles, clock });
