import { awsTables, undeclaredPrivacyKey } from '../adapters/aws-tables';
import { DynamoProfileRecords, DynamoRejectedEventStore } from '../adapters/dynamodb';
import { createDynamoProfileStore } from '../adapters/dynamodb-profiles';
import { DynamoMembershipStore } from '../adapters/dynamodb-segments';
import { createExportProfileHandler } from '../app/profiles';

const { env, db, clock } = awsTables();
const [profiles, runtime] = [env.table('profiles'), env.table('runtime')];
export const handler = createExportProfileHandler({
  profiles: createDynamoProfileStore(db, profiles, { clock, privacyKey: undeclaredPrivacyKey }),
  memberships: new DynamoMembershipStore(db, profiles),
  records: new DynamoProfileRecords(db, runtime),
  rejected: new DynamoRejectedEventStore(db, runtime, undeclaredPrivacyKey),
  clock,
});
