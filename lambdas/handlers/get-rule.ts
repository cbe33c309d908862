import { awsTables } from '../adapters/aws-tables';
import { dynamoRuleStore } from '../adapters/dynamodb-rules';
import { createGetRuleHandler } from '../app/rules';

const { env, db } = awsTables();
export const handler = createGetRuleHandler({ ruleStore: dynamoRuleStore(db, env.table('journeys')) });
