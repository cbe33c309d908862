import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TableEnvKey, type TableKey } from '../core/config/env-keys';
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
import { DynamoCampaignConversionStore } from './dynamodb-campaign-conversions';
import { createDynamoProfileStore } from './dynamodb-profiles';
import { DynamoProfileRuns } from './dynamodb-runs';
import { dynamoRuleStore } from './dynamodb-rules';
import { DynamoMembershipStore, DynamoProfileScanner, DynamoSnapshotStore, segmentStore } from './dynamodb-segments';
import { MissingEnvironmentError } from '../shared/env';

export interface WaymarkTables {
  profiles: string;
  journeys: string;
  runtime: string;
}

/**
 * A port whose table this function was not given: building it costs nothing, and any call fails with
 * MissingEnvironmentError naming the variable (its entry point does not declare the table).
 */
export function unconfiguredPort<T extends object>(variable: string): T {
  return new Proxy({} as T, {
    get(_target, property) {
      // Not a thenable, nor anything a runtime probes with a symbol: only named methods fail.
      if (typeof property === 'symbol' || property === 'then') return undefined;
      return () => {
        throw new MissingEnvironmentError(variable);
      };
    },
  });
}

/** Builds a port on its table when this function has that table's name, else an unconfigured port naming it. */
export function onTable<T extends object>(tables: Partial<WaymarkTables>, table: TableKey, build: (name: string) => T): T {
  const name = tables[table];
  return name === undefined ? unconfiguredPort<T>(TableEnvKey[table]) : build(name);
}

/**
 * Every DynamoDB-backed port, the same on AWS and in the local stack (only the client's endpoint differs). The privacy
 * key (profile ids, identity hashes) defaults to the local stack's fixed one. On AWS a function has only the tables its
 * entry point declares: the ports of the others are unconfigured (they fail when used, naming the missing variable).
 */
export function dynamoPorts(db: DynamoDBDocumentClient, tables: Partial<WaymarkTables>, clock: Clock, privacyKey: PrivacyKey = localPrivacyKey) {
  const profiles = <T extends object>(build: (name: string) => T) => onTable(tables, 'profiles', build);
  const journeys = <T extends object>(build: (name: string) => T) => onTable(tables, 'journeys', build);
  const runtime = <T extends object>(build: (name: string) => T) => onTable(tables, 'runtime', build);
  return {
    clock,
    privacyKey,
    profiles: profiles((t) => createDynamoProfileStore(db, t, { clock, privacyKey })),
    journeys: journeys((t) => new DynamoJourneyRegistry(db, t)),
    enrollments: runtime((t) => new DynamoEnrollmentStore(db, t)),
    waits: runtime((t) => new DynamoWaitIndex(db, t)),
    ledger: runtime((t) => new DynamoLedger(db, t)),
    rejected: runtime((t) => new DynamoRejectedEventStore(db, t, privacyKey)),
    records: runtime((t) => new DynamoProfileRecords(db, t)),
    profileRuns: runtime((t) => new DynamoProfileRuns(db, t)),
    segmentStore: journeys((t) => segmentStore(db, t)),
    memberships: profiles((t) => new DynamoMembershipStore(db, t)),
    snapshots: runtime((t) => new DynamoSnapshotStore(db, t)),
    profileScanner: profiles((t) => new DynamoProfileScanner(db, t, clock)),
    offerStore: journeys((t) => offerStore(db, t)),
    placementStore: journeys((t) => placementStore(db, t)),
    caps: runtime((t) => new DynamoCapStore(db, t)),
    decisionLog: runtime((t) => new DynamoDecisionLog(db, t, { clock })),
    /** Frequency-cap slots of governance rules (lambdas/core/governance/README.md). */
    sendCaps: runtime((t) => new DynamoSendCapStore(db, t)),
    conversions: runtime((t) => new DynamoConversionStore(db, t)),
    /** Campaign runs' conversion windows (lambdas/core/campaigns/conversions.ts). */
    campaignConversions: runtime((t) => new DynamoCampaignConversionStore(db, t)),
    ruleStore: journeys((t) => dynamoRuleStore(db, t)),
  };
}
