import { awsTables } from '../adapters/aws';
import { dynamoRuleStore } from '../adapters/dynamodb-rules';
import { createGetRuleHandler } from '../app/rules';

const { env, db } = awsTables();
export const handler = createGetRuleHandler({ ruleStore: dynamoRuleStore(db, env.journeysTable) });
