import { awsTables } from '../adapters/aws-tables';
import { offerStore, placementStore } from '../adapters/dynamodb-decisions';
import { createCreateOfferHandler } from '../app/decisions';
import { cachedDecisionCatalog } from '../core/decisions/catalog';

// The catalog is this container's compiled copy: a write invalidates it (other containers reload within 30 s).
const { env, db, clock } = awsTables();
const journeys = env.table('journeys');
const stores = { offerStore: offerStore(db, journeys), placementStore: placementStore(db, journeys) };
export const handler = createCreateOfferHandler({ ...stores, decisions: cachedDecisionCatalog(stores, clock), clock });
