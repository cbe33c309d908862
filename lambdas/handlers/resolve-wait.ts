import { awsTables } from '../adapters/aws';
import { createDynamoProfileStore } from '../adapters/dynamodb-profiles';
import { createResolveWaitHandler } from '../app/journey-steps';

const { env, db, clock, privacyKey } = awsTables();
export const handler = createResolveWaitHandler({ profiles: createDynamoProfileStore(db, env.profilesTable, { clock, privacyKey }), clock });
