import { awsTables } from '../adapters/aws-tables';
import { offerStore } from '../adapters/dynamodb-decisions';
import { createGetOfferHandler } from '../app/decisions';

const { env, db } = awsTables();
export const handler = createGetOfferHandler({ offerStore: offerStore(db, env.table('journeys')) });
