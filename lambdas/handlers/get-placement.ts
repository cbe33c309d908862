import { awsTables } from '../adapters/aws-tables';
import { placementStore } from '../adapters/dynamodb-decisions';
import { createGetPlacementHandler } from '../app/decisions';

const { env, db } = awsTables();
export const handler = createGetPlacementHandler({ placementStore: placementStore(db, env.table('journeys')) });
