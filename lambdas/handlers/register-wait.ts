import { awsTables, undeclaredPrivacyKey } from '../adapters/aws-tables';
import { awsExecutions } from '../adapters/aws-executions';
import { DynamoWaitIndex } from '../adapters/dynamodb';
import { createDynamoProfileStore } from '../adapters/dynamodb-profiles';
import { createRegisterWaitHandler } from '../app/journey-steps';

const { env, db, clock } = awsTables();
const privacyKey = undeclaredPrivacyKey;
export const handler = createRegisterWaitHandler({
  waits: new DynamoWaitIndex(db, env.table('runtime')),
  clock,
  profiles: createDynamoProfileStore(db, env.table('profiles'), { clock, privacyKey }),
  executions: awsExecutions().executions,
});
