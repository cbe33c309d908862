import { awsJourneyCounters, awsTables } from '../adapters/aws-tables';
import { DynamoOnceMarks } from '../adapters/dynamodb-counters';
import { createCountRunEndHandler } from '../app/count-run-end';

const { env, db, clock } = awsTables();
export const handler = createCountRunEndHandler({ counters: awsJourneyCounters(db, env.table('runtime')), once: new DynamoOnceMarks(db, env.table('runtime')), clock });
