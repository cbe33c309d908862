import { awsTables } from '../adapters/aws-tables';
import { DynamoJourneyRegistry } from '../adapters/dynamodb';
import { offerStore, placementStore } from '../adapters/dynamodb-decisions';
import { createCreatePlacementHandler } from '../app/decisions';
import { cachedDecisionCatalog } from '../core/decisions/catalog';

// The catalog is this container's compiled copy: a write invalidates it (other containers reload within 30 s). The
// journey registry: a placement a journey's decide node uses is not deleted.
const { env, db, clock } = awsTables();
const journeys = env.table('journeys');
const stores = { offerStore: offerStore(db, journeys), placementStore: placementStore(db, journeys) };
export const handler = createCreatePlacementHandler({ ...stores, decisions: cachedDecisionCatalog(stores, clock), journeys: new DynamoJourneyRegistry(db, journeys), clock });
