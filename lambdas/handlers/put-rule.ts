import { awsTables } from '../adapters/aws';
import { dynamoRuleStore } from '../adapters/dynamodb-rules';
import { createPutRuleHandler } from '../app/rules';

const { env, db, clock } = awsTables();
export const handler = createPutRuleHandler({ ruleStore: dynamoRuleStore(db, env.journeysTable), clock });
