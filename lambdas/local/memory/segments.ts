import { fromHeaderItem, fromMembershipItem, SnapshotNotFoundError, SNAPSHOT_RETENTION_DAYS } from '../../adapters/dynamodb-segments';
import { TableKeys } from '../../core/config/env-keys';
import { recentWindow } from '../../core/profiles/merge-policy';
import { defaultProfilePolicy, type ProfilePolicy } from '../../core/profiles/model';
import { toProfile } from '../../core/profiles/store';
import { InvalidCursorError } from '../../core/runtime/errors';
import type { Clock, Profile } from '../../core/runtime/ports';
import type {
  MembershipState,
  MembershipStore,
  Memberships,
  PendingTransitions,
  ProfileScanner,
  SnapshotHeader,
  SnapshotStore,
} from '../../core/segments/ports';
import type { MemoryProfileTable } from './profiles';
import { compareKeys, type Item, type MemoryTable } from './table';

/** Segmentation's items (lambdas/adapters/dynamodb-segments.ts) in memory: the same keys, conditions and pages. */

const DAY_SECONDS = 86_400;
const HEADER_SK = 'HEADER';
const MEMBER_PREFIX = 'MEMBER#';
const snapshotPk = (id: string) => `SNAPSHOT#${id}`;
export const membershipKey = (profileId: string) => ({ pk: `PROFILE#${profileId}`, sk: 'SEGMENTS' });
const encodeCursor = (value: string) => Buffer.from(value, 'utf8').toString('base64url');

/** A profile's memberships: the `SEGMENTS` item of its partition in the profiles table, written under a version check. */
export class MemoryMembershipStore implements MembershipStore {
  constructor(private readonly table: MemoryTable) {}

  async get(profileId: string): Promise<MembershipState> {
    const item = this.table.get(membershipKey(profileId));
    return item ? fromMembershipItem(item) : { segments: {}, version: 0 };
  }

  async put(profileId: string, segments: Memberships, expectedVersion: number, pending?: PendingTransitions): Promise<boolean> {
    const held = this.table.get(membershipKey(profileId));
    // attribute_not_exists(pk) | version = :expected
    if (expectedVersion === 0 ? held !== undefined : held?.version !== expectedVersion) return false;
    this.table.put({
      ...membershipKey(profileId),
      segments: new Map(Object.entries(segments)),
      version: expectedVersion + 1,
      ...(pending ? { pending: JSON.stringify(pending) } : {}),
    });
    return true;
  }
}


/** Audience snapshots: a header and one item per member in the runtime table, expiring 7 days after creation. */
export class MemorySnapshotStore implements SnapshotStore {
  constructor(private readonly table: MemoryTable) {}

  async create(header: SnapshotHeader): Promise<void> {
    const createdAt = Date.parse(header.createdAt);
    if (Number.isNaN(createdAt)) {
      throw new Error(`snapshot ${header.id}: createdAt must be an ISO-8601 time, received ${JSON.stringify(header.createdAt)}`);
    }
    const key = { pk: snapshotPk(header.id), sk: HEADER_SK };
    // A retried create of an existing snapshot leaves it as it is.
    if (this.table.get(key)) return;
    this.table.put({ ...key, ...header, [TableKeys.ttl]: Math.floor(createdAt / 1000) + SNAPSHOT_RETENTION_DAYS * DAY_SECONDS });
  }

  async get(id: string): Promise<SnapshotHeader | undefined> {
    const item = this.table.get({ pk: snapshotPk(id), sk: HEADER_SK });
    return item ? fromHeaderItem(item) : undefined;
  }

  async addMembers(id: string, profileIds: readonly string[]): Promise<void> {
    const unique = [...new Set(profileIds)];
    if (unique.length === 0) return;
    const expiresAt = this.table.get({ pk: snapshotPk(id), sk: HEADER_SK })?.[TableKeys.ttl];
    if (typeof expiresAt !== 'number') throw new SnapshotNotFoundError(id);
    for (const profileId of unique) {
      this.table.put({ pk: snapshotPk(id), sk: `${MEMBER_PREFIX}${profileId}`, profileId, [TableKeys.ttl]: expiresAt });
    }
  }

  async members(id: string, page: { limit: number; cursor?: string }): Promise<{ profileIds: string[]; cursor?: string }> {
    if (!Number.isInteger(page.limit) || page.limit < 1) {
      throw new Error(`snapshot members: limit must be a positive integer, received ${page.limit}`);
    }
    const exclusiveStart = page.cursor === undefined ? undefined : `${MEMBER_PREFIX}${decodeMemberCursor(page.cursor)}`;
    const items = this.table.query(snapshotPk(id), { prefix: MEMBER_PREFIX, exclusiveStart, limit: page.limit + 1 });
    const profileIds = items.map((item) => (item.sk as string).slice(MEMBER_PREFIX.length));
    if (profileIds.length <= page.limit) return { profileIds };
    profileIds.length = page.limit;
    return { profileIds, cursor: encodeCursor(profileIds[page.limit - 1]) };
  }

  async countMembers(id: string): Promise<number> {
    return this.table.query(snapshotPk(id), { prefix: MEMBER_PREFIX }).length;
  }

  async complete(id: string, result: { count: number; scanned: number; completedAt: string }): Promise<void> {
    const { error: _error, ...held } = this.header(id);
    this.table.put({ ...held, status: 'complete', count: result.count, scanned: result.scanned, completedAt: result.completedAt });
  }

  async fail(id: string, error: string, at: string): Promise<void> {
    this.table.put({ ...this.header(id), status: 'failed', error, completedAt: at });
  }

  /** The header item; the DynamoDB store's updates are conditional on attribute_exists(pk). */
  private header(id: string): Item {
    const held = this.table.get({ pk: snapshotPk(id), sk: HEADER_SK });
    if (!held) throw new SnapshotNotFoundError(id);
    return held;
  }
}


function decodeMemberCursor(cursor: string): string {
  const profileId = Buffer.from(cursor, 'base64url').toString('utf8');
  if (profileId.length === 0 || encodeCursor(profileId) !== cursor) throw new InvalidCursorError('snapshot members', cursor);
  return profileId;
}

type ScanPage = Parameters<ProfileScanner['scan']>[0];

/**
 * The active profiles of one parallel-scan segment: a profile belongs to the segment its partition key hashes to
 * (as DynamoDB's parallel scan splits by partition), in key order within it, each with its recent-events window and
 * memberships. A page ends after a whole profile; its cursor (the DynamoDB store's format) continues after it.
 */
export class MemoryProfileScanner implements ProfileScanner {
  /** The partition keys of each segment in key order, for one split, while no profile id is added or removed. */
  private order?: { generation: number; totalSegments: number; segments: string[][] };

  constructor(
    private readonly profiles: MemoryProfileTable,
    private readonly memberships: MemoryTable,
    private readonly clock: Clock,
    private readonly policy: ProfilePolicy = defaultProfilePolicy,
  ) {}

  async scan(page: ScanPage): Promise<{ profiles: Profile[]; cursor?: string; itemsRead: number }> {
    const { segment, totalSegments, limit } = page;
    // The DynamoDB scanner's checks, word for word.
    if (!Number.isInteger(totalSegments) || totalSegments < 1 || totalSegments > 1_000_000) {
      throw new Error(`profile scan: totalSegments must be an integer from 1 to 1000000, received ${totalSegments}`);
    }
    if (!Number.isInteger(segment) || segment < 0 || segment >= totalSegments) {
      throw new Error(`profile scan: segment must be an integer from 0 to ${totalSegments - 1}, received ${segment}`);
    }
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`profile scan: limit must be a positive integer, received ${limit}`);
    const after = page.cursor === undefined ? undefined : decodeScanCursor(page.cursor).pk;
    const now = this.clock.now();
    const pks = this.segmentOrder(totalSegments)[segment] ?? [];
    const profiles: Profile[] = [];
    let itemsRead = 0;
    for (let i = after === undefined ? 0 : firstAfter(pks, after); i < pks.length; i++) {
      const id = pks[i].slice('PROFILE#'.length);
      const state = this.profiles.profiles.get(id)!;
      const events = state.status === 'active' ? await this.profiles.listEvents(id) : [];
      const memberships = this.memberships.get(membershipKey(id));
      itemsRead += 1 + (this.profiles.events.get(id)?.size ?? 0) + (memberships ? 1 : 0);
      if (state.status === 'active') {
        const window = recentWindow(events.map(({ applied: _applied, ...entry }) => entry), now, this.policy);
        const profile = toProfile(state, window);
        profiles.push(memberships ? { ...profile, segments: fromMembershipItem(memberships).segments } : profile);
      }
      if (profiles.length >= limit) {
        if (i === pks.length - 1) return { profiles, itemsRead };
        return { profiles, itemsRead, cursor: encodeCursor(JSON.stringify({ pk: pks[i], sk: 'PROFILE' })) };
      }
    }
    return { profiles, itemsRead };
  }

  private segmentOrder(totalSegments: number): string[][] {
    const { generation } = this.profiles;
    if (this.order?.generation === generation && this.order.totalSegments === totalSegments) return this.order.segments;
    // Sparse: up to a million segments, most of them empty.
    const segments: string[][] = [];
    for (const id of this.profiles.profiles.keys()) {
      const pk = `PROFILE#${id}`;
      (segments[segmentOf(pk, totalSegments)] ??= []).push(pk);
    }
    for (const pks of segments) pks?.sort(compareKeys);
    this.order = { generation, totalSegments, segments };
    return segments;
  }
}

/** The index of the first key after `key` in sorted `keys`. */
function firstAfter(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(keys[mid], key) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** FNV-1a of the partition key: a stable split of profiles over the segments. */
function segmentOf(pk: string, totalSegments: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < pk.length; i++) hash = Math.imul(hash ^ pk.charCodeAt(i), 0x01000193) >>> 0;
  return hash % totalSegments;
}

function decodeScanCursor(cursor: string): { pk: string; sk: string } {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { pk?: unknown; sk?: unknown };
    if (typeof key.pk === 'string' && typeof key.sk === 'string') return { pk: key.pk, sk: key.sk };
  } catch {
    // reported below
  }
  throw new InvalidCursorError('profile scan', cursor);
}
