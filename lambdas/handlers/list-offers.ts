import { awsTables } from '../adapters/aws-tables';
import { offerStore } from '../adapters/dynamodb-decisions';
import { createListOffersHandler } from '../app/decisions';

const { env, db } = awsTables();
export const handler = createListOffersHandler({ offerStore: offerStore(db, env.table('journeys')) });
