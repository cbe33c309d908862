import { awsTables } from '../adapters/aws-tables';
import { dynamoRuleStore } from '../adapters/dynamodb-rules';
import { createListRulesHandler } from '../app/rules';

const { env, db } = awsTables();
export const handler = createListRulesHandler({ ruleStore: dynamoRuleStore(db, env.table('journeys')) });
