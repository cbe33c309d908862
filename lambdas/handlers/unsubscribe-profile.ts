import { awsTables } from '../adapters/aws-tables';
import { awsUnsubscribe } from '../adapters/aws-secrets';
import { DynamoConsentStore } from '../adapters/dynamodb-consent';
import { createUnsubscribeProfileHandler } from '../app/consent';

const { env, db, clock } = awsTables();
export const handler = createUnsubscribeProfileHandler({
  consent: new DynamoConsentStore(db, env.table('profiles'), clock),
  clock,
  getSecret: awsUnsubscribe(env).getSecret,
});
