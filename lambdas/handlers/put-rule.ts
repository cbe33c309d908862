import { awsTables } from '../adapters/aws-tables';
import { dynamoRuleStore } from '../adapters/dynamodb-rules';
import { createPutRuleHandler } from '../app/rules';

const { env, db, clock } = awsTables();
export const handler = createPutRuleHandler({ ruleStore: dynamoRuleStore(db, env.table('journeys')), clock });
