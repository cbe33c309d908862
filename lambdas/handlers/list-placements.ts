import { awsTables } from '../adapters/aws-tables';
import { placementStore } from '../adapters/dynamodb-decisions';
import { createListPlacementsHandler } from '../app/decisions';

const { env, db } = awsTables();
export const handler = createListPlacementsHandler({ placementStore: placementStore(db, env.table('journeys')) });
