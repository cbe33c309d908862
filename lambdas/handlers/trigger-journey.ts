import { awsJourneyCounters, awsTables } from '../adapters/aws-tables';
import { awsExecutions } from '../adapters/aws-executions';
import { awsPrivacyKey } from '../adapters/aws-secrets';
import { DynamoEnrollmentStore, DynamoJourneyRegistry } from '../adapters/dynamodb';
import { DynamoConversionStore } from '../adapters/dynamodb-conversions';
import { createDynamoProfileStore } from '../adapters/dynamodb-profiles';
import { createTriggerJourneyHandler } from '../app/trigger-journey';

// The privacy key names a profile the trigger creates; an entry is measured (conversion window, counters).
const { env, db, clock } = awsTables();
const runtime = env.table('runtime');
export const handler = createTriggerJourneyHandler({
  profiles: createDynamoProfileStore(db, env.table('profiles'), { clock, privacyKey: awsPrivacyKey(env) }),
  journeys: new DynamoJourneyRegistry(db, env.table('journeys')),
  enrollments: new DynamoEnrollmentStore(db, runtime),
  conversions: new DynamoConversionStore(db, runtime),
  counters: awsJourneyCounters(db, runtime),
  executions: awsExecutions().executions,
  clock,
});
