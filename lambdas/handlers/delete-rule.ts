import { awsTables } from '../adapters/aws-tables';
import { dynamoRuleStore } from '../adapters/dynamodb-rules';
import { createDeleteRuleHandler } from '../app/rules';

const { env, db } = awsTables();
export const handler = createDeleteRuleHandler({ ruleStore: dynamoRuleStore(db, env.table('journeys')) });
