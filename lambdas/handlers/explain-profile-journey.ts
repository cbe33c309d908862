import { awsTables, undeclaredPrivacyKey } from '../adapters/aws-tables';
import { awsExecutions } from '../adapters/aws-executions';
import { DynamoJourneyRegistry } from '../adapters/dynamodb';
import { DynamoDecisionLog } from '../adapters/dynamodb-decisions';
import { createDynamoProfileStore } from '../adapters/dynamodb-profiles';
import { DynamoProfileRuns } from '../adapters/dynamodb-runs';
import { createExplainProfileJourneyHandler } from '../app/why';

const { env, db, clock } = awsTables();
const runtime = env.table('runtime');
export const handler = createExplainProfileJourneyHandler({
  profiles: createDynamoProfileStore(db, env.table('profiles'), { clock, privacyKey: undeclaredPrivacyKey }),
  journeys: new DynamoJourneyRegistry(db, env.table('journeys')),
  profileRuns: new DynamoProfileRuns(db, runtime),
  decisionLog: new DynamoDecisionLog(db, runtime, { clock }),
  history: awsExecutions().history,
});
