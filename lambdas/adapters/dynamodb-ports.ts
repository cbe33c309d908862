import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { localPrivacyKey, type PrivacyKey } from '../core/privacy/keys';
import type { Clock } from '../core/runtime/ports';
import {
  DynamoEnrollmentStore,
  DynamoJourneyRegistry,
  DynamoLedger,
  DynamoProfileRecords,
  DynamoRejectedEventStore,
  DynamoWaitIndex,
} from './dynamodb';
import { DynamoCapStore, DynamoDecisionLog, offerStore, placementStore } from './dynamodb-decisions';
import { DynamoSendCapStore } from './dynamodb-governance';
import { DynamoConversionStore } from './dynamodb-conversions';
import { createDynamoProfileStore } from './dynamodb-profiles';
import { DynamoProfileRuns } from './dynamodb-runs';
import { dynamoRuleStore } from './dynamodb-rules';
import { DynamoMembershipStore, DynamoProfileScanner, DynamoSnapshotStore, segmentStore } from './dynamodb-segments';

export interface WaymarkTables {
  profiles: string;
  journeys: string;
  runtime: string;
}

/**
 * Every DynamoDB-backed port, the same on AWS and in the local stack (only the client's endpoint differs). The privacy
 * key (profile ids, identity hashes) defaults to the local stack's fixed one.
 */
export function dynamoPorts(db: DynamoDBDocumentClient, tables: WaymarkTables, clock: Clock, privacyKey: PrivacyKey = localPrivacyKey) {
  return {
    clock,
    privacyKey,
    profiles: createDynamoProfileStore(db, tables.profiles, { clock, privacyKey }),
    journeys: new DynamoJourneyRegistry(db, tables.journeys),
    enrollments: new DynamoEnrollmentStore(db, tables.runtime),
    waits: new DynamoWaitIndex(db, tables.runtime),
    ledger: new DynamoLedger(db, tables.runtime),
    rejected: new DynamoRejectedEventStore(db, tables.runtime, privacyKey),
    records: new DynamoProfileRecords(db, tables.runtime),
    profileRuns: new DynamoProfileRuns(db, tables.runtime),
    segmentStore: segmentStore(db, tables.journeys),
    memberships: new DynamoMembershipStore(db, tables.profiles),
    snapshots: new DynamoSnapshotStore(db, tables.runtime),
    profileScanner: new DynamoProfileScanner(db, tables.profiles, clock),
    offerStore: offerStore(db, tables.journeys),
    placementStore: placementStore(db, tables.journeys),
    caps: new DynamoCapStore(db, tables.runtime),
    decisionLog: new DynamoDecisionLog(db, tables.runtime, { clock }),
    /** Frequency-cap slots of governance rules (lambdas/core/governance/README.md). */
    sendCaps: new DynamoSendCapStore(db, tables.runtime),
    conversions: new DynamoConversionStore(db, tables.runtime),
    ruleStore: dynamoRuleStore(db, tables.journeys),
  };
}
