import { awsTables } from '../adapters/aws-tables';
import { DynamoDecisionLog } from '../adapters/dynamodb-decisions';
import { createListDecisionsHandler } from '../app/decisions';

const { env, db, clock } = awsTables();
export const handler = createListDecisionsHandler({ decisionLog: new DynamoDecisionLog(db, env.table('runtime'), { clock }) });
