import { awsJourneyCounters, awsTables } from '../adapters/aws-tables';
import { awsExecutions } from '../adapters/aws-executions';
import { awsPrivacyKey, awsUnsubscribe } from '../adapters/aws-secrets';
import { DynamoEnrollmentStore, DynamoJourneyRegistry, DynamoLedger } from '../adapters/dynamodb';
import { DynamoSendCapStore } from '../adapters/dynamodb-governance';
import { createDynamoProfileStore } from '../adapters/dynamodb-profiles';
import { dynamoRuleStore } from '../adapters/dynamodb-rules';
import { DynamoSuppressionList } from '../adapters/dynamodb-suppression';
import { createPrepareSendHandler } from '../app/journey-steps';
import { enrollmentRuns } from '../core/governance/runs';
import { cachedRuleSource } from '../core/governance/store';

const { env, db, clock } = awsTables();
const privacyKey = awsPrivacyKey(env);
const { executions } = awsExecutions();
export const handler = createPrepareSendHandler({
  profiles: createDynamoProfileStore(db, env.table('profiles'), { clock, privacyKey }),
  ledger: new DynamoLedger(db, env.table('runtime')),
  counters: awsJourneyCounters(db, env.table('runtime')),
  clock,
  suppression: new DynamoSuppressionList(db, env.table('runtime'), privacyKey),
  unsubscribeLinks: awsUnsubscribe(env).unsubscribeLinks,
  // Governance (lambdas/core/governance/README.md): the stored rules (files and API), read at most once a minute per
  // container; the cap slots in the runtime table; arbitration reads the journeys and the profile's running runs.
  governance: {
    rules: cachedRuleSource(dynamoRuleStore(db, env.table('journeys')), clock),
    caps: new DynamoSendCapStore(db, env.table('runtime')),
    defaultTimeZone: env.defaultTimeZone,
    arbitration: {
      journeys: new DynamoJourneyRegistry(db, env.table('journeys')),
      runs: enrollmentRuns({ enrollments: new DynamoEnrollmentStore(db, env.table('runtime')), executions }),
    },
  },
});
