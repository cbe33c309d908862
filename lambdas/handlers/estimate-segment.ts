import { awsTables } from '../adapters/aws-tables';
import { DynamoMembershipStore, DynamoProfileScanner, segmentStore } from '../adapters/dynamodb-segments';
import { createEstimateSegmentHandler } from '../app/segments';
import { cachedSegmentCatalog } from '../core/segments/cached-catalog';

const { env, db, clock } = awsTables();
const [profiles, journeys] = [env.table('profiles'), env.table('journeys')];
const segments = segmentStore(db, journeys);
export const handler = createEstimateSegmentHandler({
  segmentStore: segments,
  // The stored segments compiled (the segments this one refers to), reloaded at most every 30 s.
  segments: cachedSegmentCatalog(segments, clock),
  profileScanner: new DynamoProfileScanner(db, profiles, clock),
  memberships: new DynamoMembershipStore(db, profiles),
  clock,
});
