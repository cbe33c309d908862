import type { Profile } from '../runtime/ports';
import type { SegmentDefinition } from './rule';

/** Ports of segmentation: definitions, memberships, audience snapshots. Adapters: DynamoDB (and in-memory in tests). */

/** A stored segment: its definition and where it came from. `version` increases with every write. */
export interface SegmentRecord {
  definition: SegmentDefinition;
  /** `file`: deployed from `segments/*.json` (the API refuses to change it); `api`: created through the API. */
  origin: 'file' | 'api';
  version: number;
  updatedAt: string;
}

export interface SegmentStore {
  list(): Promise<SegmentRecord[]>;
  get(id: string): Promise<SegmentRecord | undefined>;
  /**
   * Writes a segment. `expectedVersion` undefined: only if no segment has that id (false otherwise);
   * a number: only if the stored one is at that version (false otherwise). `force` writes unconditionally (deployments).
   */
  put(record: SegmentRecord, condition: { expectedVersion?: number; force?: boolean }): Promise<boolean>;
  /** Deletes; false when it did not exist. */
  delete(id: string): Promise<boolean>;
}

/** The segments a profile is a member of: segment id → when it entered (ISO-8601). Stored with the profile. */
export type Memberships = Record<string, string>;

/** Transitions stored with the memberships that made them, until they have been announced (an outbox). */
export interface PendingTransitions {
  entered: string[];
  exited: string[];
  /** What caused them (the announcement ids derive from it, so a repeat is recognisable). */
  cause: { id: string; type: string };
  at: string;
}

export interface MembershipState {
  segments: Memberships;
  /** Increases with every write; 0 when nothing was ever written. */
  version: number;
  /** Transitions written but not yet known to be announced. */
  pending?: PendingTransitions;
}

export interface MembershipStore {
  get(profileId: string): Promise<MembershipState>;
  /**
   * Replaces the memberships, only if they are still at `expectedVersion` (another evaluation of the same profile did not
   * write in between); false otherwise, and nothing is written. `pending` is stored with them (absent: cleared).
   */
  put(profileId: string, segments: Memberships, expectedVersion: number, pending?: PendingTransitions): Promise<boolean>;
}

/** An audience snapshot: the members of one segment at one time, computed over all profiles. */
export interface SnapshotHeader {
  id: string;
  segmentId: string;
  /** The segment's version the snapshot was computed with. */
  segmentVersion: number;
  status: 'running' | 'complete' | 'failed';
  createdAt: string;
  completedAt?: string;
  /** Members, once complete. */
  count?: number;
  /** Profiles evaluated, once complete. */
  scanned?: number;
  error?: string;
}

export interface SnapshotStore {
  create(header: SnapshotHeader): Promise<void>;
  get(id: string): Promise<SnapshotHeader | undefined>;
  /** Adds members (idempotent: adding a member twice stores it once). */
  addMembers(id: string, profileIds: readonly string[]): Promise<void>;
  /** Members in profile-id order, `limit` at a time; `cursor` continues a page (one it did not return: `InvalidCursorError`). */
  members(id: string, page: { limit: number; cursor?: string }): Promise<{ profileIds: string[]; cursor?: string }>;
  /** Counts stored members (idempotent however often workers retried). */
  countMembers(id: string): Promise<number>;
  complete(id: string, result: { count: number; scanned: number; completedAt: string }): Promise<void>;
  fail(id: string, error: string, at: string): Promise<void>;
}

/**
 * Reads every active profile, one parallel-scan segment of the profiles table at a time, each with its recent-events
 * window (absorbed and merging profiles are skipped). Pages end at a profile boundary: `cursor` continues the segment.
 */
export interface ProfileScanner {
  scan(page: { segment: number; totalSegments: number; cursor?: string; limit: number }): Promise<{ profiles: Profile[]; cursor?: string; itemsRead: number }>;
}

/** A batch job over all profiles, run by the audience-scan state machine (Map over parallel-scan segments). */
export type AudienceJob =
  | { kind: 'snapshot'; jobId: string; snapshotId: string; segmentId: string }
  | { kind: 'recheck'; jobId: string };

/** The execution input of the audience-scan state machine. */
export interface AudienceScanInput {
  job: AudienceJob;
  totalSegments: number;
  /** 0 .. totalSegments - 1: the Map iterates over it. */
  parts: number[];
}

export interface AudienceJobs {
  /** Starts the audience-scan state machine for a job (name = job id, so a retried start runs once). */
  start(input: AudienceScanInput): Promise<{ executionArn: string }>;
}
