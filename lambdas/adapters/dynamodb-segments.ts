import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { TableKeys } from '../core/config/env-keys';
import { recentWindow } from '../core/profiles/merge-policy';
import { defaultProfilePolicy, type ProfilePolicy, type RecentEvent } from '../core/profiles/model';
import { toProfile } from '../core/profiles/store';
import { InvalidCursorError } from '../core/runtime/errors';
import type { Clock, Profile } from '../core/runtime/ports';
import { dict } from '../core/shared/records';
import type { SegmentDefinition } from '../core/segments/rule';
import { DynamoCatalogStore } from './dynamodb-catalog';
import type {
  MembershipState,
  MembershipStore,
  Memberships,
  PendingTransitions,
  ProfileScanner,
  SegmentStore,
  SnapshotHeader,
  SnapshotStore,
} from '../core/segments/ports';
import { fromItem, toRecentEvent } from './dynamodb-profiles';

/**
 * Segmentation in DynamoDB:
 *
 * | table    | item        | pk                    | sk                      | attributes |
 * |----------|-------------|-----------------------|-------------------------|------------|
 * | journeys | segment     | `SEGMENTS`            | `SEGMENT#<id>`          | definition (JSON string, see dynamodb-catalog.ts), origin, version, updatedAt |
 * | profiles | memberships | `PROFILE#<id>`        | `SEGMENTS`              | segments (map id → entered at), version, pending (JSON string: transitions not yet announced) |
 * | runtime  | snapshot    | `SNAPSHOT#<id>`       | `HEADER`                | the SnapshotHeader fields, expiresAt |
 * | runtime  | member      | `SNAPSHOT#<id>`       | `MEMBER#<profile id>`   | profileId, expiresAt |
 *
 * Memberships share the profile's partition, so erasure (which deletes every item under `PROFILE#<id>`) removes them,
 * and the profile scanner reads them with the profile. Snapshots expire 7 days after they were created.
 */

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException || (error as { name?: string })?.name === 'ConditionalCheckFailedException';

const PROFILE_PREFIX = 'PROFILE#';
const MEMBERSHIPS_SK = 'SEGMENTS';
const membershipKey = (profileId: string) => ({ pk: `${PROFILE_PREFIX}${profileId}`, sk: MEMBERSHIPS_SK });
const snapshotPk = (id: string) => `SNAPSHOT#${id}`;
const HEADER_SK = 'HEADER';
const MEMBER_PREFIX = 'MEMBER#';

const DAY_SECONDS = 86_400;
/** How long a snapshot (header and members) is kept. */
export const SNAPSHOT_RETENTION_DAYS = 7;

export class SnapshotNotFoundError extends Error {
  override readonly name = 'SnapshotNotFoundError';
  constructor(readonly snapshotId: string) {
    super(`snapshot ${snapshotId} does not exist (or has expired)`);
  }
}


/** Segment definitions in the journeys table (pk `SEGMENTS`, sk `SEGMENT#<id>`, the definition as a JSON string). */
export const segmentStore = (db: DynamoDBDocumentClient, journeysTable: string): SegmentStore => new DynamoCatalogStore<SegmentDefinition>(db, journeysTable, 'SEGMENT');

/** A profile's memberships: one item in the profile's partition of the profiles table, written under a version check. */
export class DynamoMembershipStore implements MembershipStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(profileId: string): Promise<MembershipState> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: membershipKey(profileId), ConsistentRead: true }));
    return Item ? fromMembershipItem(Item) : { segments: {}, version: 0 };
  }

  async put(profileId: string, segments: Memberships, expectedVersion: number, pending?: PendingTransitions): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          // A Map: the document client refuses a plain map with a key named `constructor` (a valid segment id).
          Item: {
            ...membershipKey(profileId),
            segments: new Map(Object.entries(segments)),
            version: expectedVersion + 1,
            ...(pending ? { pending: JSON.stringify(pending) } : {}),
          },
          ...(expectedVersion === 0
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : { ConditionExpression: 'version = :expected', ExpressionAttributeValues: { ':expected': expectedVersion } }),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}

export function fromMembershipItem(item: Record<string, unknown>): MembershipState {
  const segments = dict(Object.entries((item.segments as Memberships | undefined) ?? {}));
  const state: MembershipState = { segments, version: Number(item.version ?? 0) };
  if (typeof item.pending === 'string') state.pending = JSON.parse(item.pending) as PendingTransitions;
  return state;
}

export interface DynamoSnapshotStoreOptions {
  /** Attempts of a BatchWriteItem while items come back unprocessed. @default 8 */
  readonly maxBatchAttempts?: number;
  /** First backoff before retrying unprocessed items, doubled each time (with jitter). @default 50 */
  readonly baseDelayMs?: number;
}

const BATCH_SIZE = 25;

/** Audience snapshots in the runtime table: a header item and one item per member, all expiring after 7 days. */
export class DynamoSnapshotStore implements SnapshotStore {
  /** Expiry (epoch seconds) per snapshot, read from the header once per container. */
  private readonly expiry = new Map<string, number>();
  private readonly maxBatchAttempts: number;
  private readonly baseDelayMs: number;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    options: DynamoSnapshotStoreOptions = {},
  ) {
    this.maxBatchAttempts = options.maxBatchAttempts ?? 8;
    this.baseDelayMs = options.baseDelayMs ?? 50;
  }

  /** Writes the header; a retried create of an existing snapshot leaves it as it is. */
  async create(header: SnapshotHeader): Promise<void> {
    const createdAt = Date.parse(header.createdAt);
    if (Number.isNaN(createdAt)) throw new Error(`snapshot ${header.id}: createdAt must be an ISO-8601 time, received ${JSON.stringify(header.createdAt)}`);
    const expiresAt = Math.floor(createdAt / 1000) + SNAPSHOT_RETENTION_DAYS * DAY_SECONDS;
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: snapshotPk(header.id), sk: HEADER_SK, ...withoutUndefined(header), [TableKeys.ttl]: expiresAt },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async get(id: string): Promise<SnapshotHeader | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: { pk: snapshotPk(id), sk: HEADER_SK }, ConsistentRead: true }));
    return Item ? fromHeaderItem(Item) : undefined;
  }

  async addMembers(id: string, profileIds: readonly string[]): Promise<void> {
    const unique = [...new Set(profileIds)];
    if (unique.length === 0) return;
    const expiresAt = await this.expiresAt(id);
    for (let start = 0; start < unique.length; start += BATCH_SIZE) {
      const requests = unique.slice(start, start + BATCH_SIZE).map((profileId) => ({
        PutRequest: { Item: { pk: snapshotPk(id), sk: `${MEMBER_PREFIX}${profileId}`, profileId, [TableKeys.ttl]: expiresAt } },
      }));
      await this.writeBatch(requests);
    }
  }

  async members(id: string, page: { limit: number; cursor?: string }): Promise<{ profileIds: string[]; cursor?: string }> {
    if (!Number.isInteger(page.limit) || page.limit < 1) throw new Error(`snapshot members: limit must be a positive integer, received ${page.limit}`);
    const profileIds: string[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined = page.cursor === undefined ? undefined : { pk: snapshotPk(id), sk: `${MEMBER_PREFIX}${decodeMemberCursor(page.cursor)}` };
    // One more than the page, so the last page says so (no cursor) instead of leading to an empty one.
    do {
      const result = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :member)',
          ExpressionAttributeValues: { ':pk': snapshotPk(id), ':member': MEMBER_PREFIX },
          ProjectionExpression: 'sk',
          Limit: page.limit + 1 - profileIds.length,
          ConsistentRead: true,
          ExclusiveStartKey,
        }),
      );
      for (const item of result.Items ?? []) profileIds.push((item.sk as string).slice(MEMBER_PREFIX.length));
      ExclusiveStartKey = result.LastEvaluatedKey;
    } while (ExclusiveStartKey && profileIds.length <= page.limit);
    if (profileIds.length <= page.limit) return { profileIds };
    profileIds.length = page.limit;
    return { profileIds, cursor: encodeCursor(profileIds[page.limit - 1]) };
  }

  async countMembers(id: string): Promise<number> {
    let count = 0;
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const result = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :member)',
          ExpressionAttributeValues: { ':pk': snapshotPk(id), ':member': MEMBER_PREFIX },
          Select: 'COUNT',
          ConsistentRead: true,
          ExclusiveStartKey,
        }),
      );
      count += result.Count ?? 0;
      ExclusiveStartKey = result.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return count;
  }

  async complete(id: string, result: { count: number; scanned: number; completedAt: string }): Promise<void> {
    await this.updateHeader(id, 'SET #status = :complete, #count = :count, scanned = :scanned, completedAt = :at REMOVE #error', {
      names: { '#count': 'count', '#error': 'error' },
      values: { ':complete': 'complete', ':count': result.count, ':scanned': result.scanned, ':at': result.completedAt },
    });
  }

  async fail(id: string, error: string, at: string): Promise<void> {
    await this.updateHeader(id, 'SET #status = :failed, #error = :error, completedAt = :at', {
      names: { '#error': 'error' },
      values: { ':failed': 'failed', ':error': error, ':at': at },
    });
  }

  private async updateHeader(id: string, UpdateExpression: string, expression: { names: Record<string, string>; values: Record<string, unknown> }): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: snapshotPk(id), sk: HEADER_SK },
          UpdateExpression,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#status': 'status', ...expression.names },
          ExpressionAttributeValues: expression.values,
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new SnapshotNotFoundError(id);
      throw error;
    }
  }

  /** Members expire with their snapshot: the header's expiry. */
  private async expiresAt(id: string): Promise<number> {
    const cached = this.expiry.get(id);
    if (cached !== undefined) return cached;
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { pk: snapshotPk(id), sk: HEADER_SK }, ConsistentRead: true, ProjectionExpression: '#ttl', ExpressionAttributeNames: { '#ttl': TableKeys.ttl } }),
    );
    const expiresAt = Item?.[TableKeys.ttl];
    if (typeof expiresAt !== 'number') throw new SnapshotNotFoundError(id);
    this.expiry.set(id, expiresAt);
    return expiresAt;
  }

  /** One BatchWriteItem, retrying what comes back unprocessed with exponential backoff. */
  private async writeBatch(requests: { PutRequest: { Item: Record<string, unknown> } }[]): Promise<void> {
    let pending: typeof requests = requests;
    for (let attempt = 1; ; attempt++) {
      const { UnprocessedItems } = await this.db.send(new BatchWriteCommand({ RequestItems: { [this.table]: pending } }));
      pending = (UnprocessedItems?.[this.table] ?? []) as typeof requests;
      if (pending.length === 0) return;
      if (attempt >= this.maxBatchAttempts) throw new Error(`snapshot members: ${pending.length} items still unprocessed after ${attempt} BatchWriteItem attempts`);
      const delay = this.baseDelayMs * 2 ** (attempt - 1);
      await new Promise((resolve) => setTimeout(resolve, delay / 2 + Math.random() * (delay / 2)));
    }
  }
}

export function fromHeaderItem(item: Record<string, unknown>): SnapshotHeader {
  return {
    id: item.id as string,
    segmentId: item.segmentId as string,
    segmentVersion: Number(item.segmentVersion),
    status: item.status as SnapshotHeader['status'],
    createdAt: item.createdAt as string,
    ...(item.completedAt !== undefined ? { completedAt: item.completedAt as string } : {}),
    ...(item.count !== undefined ? { count: Number(item.count) } : {}),
    ...(item.scanned !== undefined ? { scanned: Number(item.scanned) } : {}),
    ...(item.error !== undefined ? { error: item.error as string } : {}),
  };
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

const encodeCursor = (value: string) => Buffer.from(value, 'utf8').toString('base64url');

function decodeMemberCursor(cursor: string): string {
  const profileId = Buffer.from(cursor, 'base64url').toString('utf8');
  if (profileId.length === 0 || encodeCursor(profileId) !== cursor) throw new InvalidCursorError('snapshot members', cursor);
  return profileId;
}

export interface DynamoProfileScannerOptions {
  /** The recent-events window, as the profile store applies it. @default defaultProfilePolicy */
  readonly policy?: ProfilePolicy;
  /** Items per Scan request (the page a profile boundary is looked for in). @default 10 × limit, between 100 and 1000 */
  readonly scanPageItems?: number;
}

interface Partition {
  pk: string;
  items: Record<string, unknown>[];
}

/**
 * Reads the active profiles of one parallel-scan segment of the profiles table. The items of one partition come
 * contiguously, so a profile is assembled from its partition: the `PROFILE` item, its `EVENT#` items (the recent-events
 * window) and its `SEGMENTS` item (memberships). A page ends after the last item of a profile's partition and its
 * cursor is that item's key, so the next page starts with the next partition: no profile twice, none in part.
 */
export class DynamoProfileScanner implements ProfileScanner {
  private readonly policy: ProfilePolicy;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly clock: Clock,
    private readonly options: DynamoProfileScannerOptions = {},
  ) {
    this.policy = options.policy ?? defaultProfilePolicy;
  }

  async scan(page: { segment: number; totalSegments: number; cursor?: string; limit: number }): Promise<{ profiles: Profile[]; cursor?: string; itemsRead: number }> {
    const { segment, totalSegments, limit } = page;
    if (!Number.isInteger(totalSegments) || totalSegments < 1 || totalSegments > 1_000_000) throw new Error(`profile scan: totalSegments must be an integer from 1 to 1000000, received ${totalSegments}`);
    if (!Number.isInteger(segment) || segment < 0 || segment >= totalSegments) throw new Error(`profile scan: segment must be an integer from 0 to ${totalSegments - 1}, received ${segment}`);
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`profile scan: limit must be a positive integer, received ${limit}`);
    const pageItems = this.options.scanPageItems ?? Math.min(1000, Math.max(100, limit * 10));
    const now = this.clock.now();

    const profiles: Profile[] = [];
    let itemsRead = 0;
    /** Key of the last item of the last partition consumed: where the next page starts. */
    let consumedUpTo: Record<string, unknown> | undefined = page.cursor === undefined ? undefined : decodeScanCursor(page.cursor);
    let ExclusiveStartKey = consumedUpTo;
    let open: Partition | undefined;
    for (;;) {
      const result = await this.db.send(
        new ScanCommand({
          TableName: this.table,
          Segment: segment,
          TotalSegments: totalSegments,
          Limit: pageItems,
          ExclusiveStartKey,
        }),
      );
      const items = result.Items ?? [];
      itemsRead += items.length;
      ExclusiveStartKey = result.LastEvaluatedKey;
      const done = ExclusiveStartKey === undefined;
      // Every partition that a later item (or the end of the segment) closed is complete.
      const closed: Partition[] = [];
      for (const item of items) {
        if (open && open.pk === item.pk) open.items.push(item);
        else {
          if (open) closed.push(open);
          open = { pk: item.pk as string, items: [item] };
        }
      }
      if (done && open) {
        closed.push(open);
        open = undefined;
      }
      for (const partition of closed) {
        const profile = this.assemble(partition, now);
        if (profile) profiles.push(profile);
        const last = partition.items[partition.items.length - 1];
        consumedUpTo = { pk: last.pk, sk: last.sk };
        if (profiles.length >= limit) {
          // The segment has nothing after this partition only when it was the last one of a finished scan.
          const exhausted = done && partition === closed[closed.length - 1];
          return { profiles, itemsRead, ...(exhausted ? {} : { cursor: encodeScanCursor(consumedUpTo) }) };
        }
      }
      if (done) return { profiles, itemsRead };
    }
  }

  /** The active profile a partition holds, or undefined (identity items, absorbed or merging profiles, stray items). */
  private assemble(partition: Partition, now: Date): Profile | undefined {
    if (!partition.pk.startsWith(PROFILE_PREFIX)) return undefined;
    let profileItem: Record<string, unknown> | undefined;
    let memberships: Memberships | undefined;
    const events: RecentEvent[] = [];
    const nowSeconds = Math.floor(now.getTime() / 1000);
    for (const item of partition.items) {
      const sk = item.sk as string;
      if (sk === 'PROFILE') profileItem = item;
      else if (sk === MEMBERSHIPS_SK) memberships = fromMembershipItem(item).segments;
      else if (sk.startsWith('EVENT#')) {
        // TTL deletes within days of expiry: what has expired already is left out, as the profile store's reads do.
        const expiresAt = item[TableKeys.ttl];
        if (typeof expiresAt === 'number' && expiresAt <= nowSeconds) continue;
        events.push(toRecentEvent(item));
      }
      // Anything else in the partition (consent records, future item kinds) is not part of the scanned profile.
    }
    if (!profileItem) return undefined;
    const state = fromItem(profileItem);
    if (state.status !== 'active') return undefined;
    const profile = toProfile(state, recentWindow(events, now, this.policy));
    return memberships ? { ...profile, segments: memberships } : profile;
  }
}

function encodeScanCursor(key: Record<string, unknown>): string {
  return encodeCursor(JSON.stringify({ pk: key.pk, sk: key.sk }));
}

function decodeScanCursor(cursor: string): Record<string, unknown> {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { pk?: unknown; sk?: unknown };
    if (typeof key.pk === 'string' && typeof key.sk === 'string') return { pk: key.pk, sk: key.sk };
  } catch {
    // reported below
  }
  throw new InvalidCursorError('profile scan', cursor);
}
