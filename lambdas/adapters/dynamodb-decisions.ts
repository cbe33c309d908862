import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { TableKeys } from '../core/config/env-keys';
import type { Caps, Offer, Placement } from '../core/decisions/model';
import type {
  CapCarryOver,
  CapOutcome,
  CapStore,
  DecisionKey,
  DecisionKeyState,
  DecisionLog,
  DecisionRecord,
} from '../core/decisions/ports';
import { DynamoCatalogStore } from './dynamodb-catalog';
import { profileIndexKeys } from './dynamodb';

export { DynamoCatalogStore };
import { parseDuration } from '../core/shared/duration';
import { InvalidCursorError } from '../core/runtime/errors';
import { systemClock, type Clock } from '../core/runtime/ports';

/**
 * Decisioning in DynamoDB:
 *
 * | table    | item          | pk                            | sk                        | attributes |
 * |----------|---------------|-------------------------------|---------------------------|------------|
 * | journeys | offer         | `OFFERS`                      | `OFFER#<id>`              | definition (JSON string), origin, version, updatedAt |
 * | journeys | placement     | `PLACEMENTS`                  | `PLACEMENT#<id>`          | definition (JSON string), origin, version, updatedAt |
 * | runtime  | total cap     | `CAP#<offer id>`              | `TOTAL`                   | proposals |
 * | runtime  | profile cap   | `CAP#<offer id>#<profile id>` | `PROFILE`                 | times (list of epoch ms), version, profileId, expiresAt |
 * | runtime  | decision      | `DECISIONS#<profile id>`      | `<ISO time>#<decision id>`| record (JSON string), profileId, expiresAt |
 * | runtime  | decision key  | `DECISIONKEY#<profile id>#<key>` | `KEY`               | status, fingerprint, leaseUntil or record, profileId, expiresAt |
 *
 * Definitions are JSON strings, not maps: an eligibility rule nested in an offer would otherwise count against
 * DynamoDB's 32 levels of map nesting. Profile cap items and decisions carry `profileId`, so the runtime table's
 * `byProfile` index finds them for erasure and export; the total cap item belongs to no profile and stays out of it.
 */

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException || (error as { name?: string })?.name === 'ConditionalCheckFailedException';

const DAY_SECONDS = 86_400;
const encodeCursor = (value: string) => Buffer.from(value, 'utf8').toString('base64url');
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const offerStore = (db: DynamoDBDocumentClient, journeysTable: string) => new DynamoCatalogStore<Offer>(db, journeysTable, 'OFFER');
export const placementStore = (db: DynamoDBDocumentClient, journeysTable: string) => new DynamoCatalogStore<Placement>(db, journeysTable, 'PLACEMENT');

export interface DynamoCapStoreOptions {
  /** Attempts of a version-conditional write of a profile's cap item before giving up. @default 20 */
  readonly maxAttempts?: number;
  /** Upper bound of the first jittered backoff after a lost race, growing with each attempt (capped at 8×). @default 5 */
  readonly baseDelayMs?: number;
}

interface ProfileSlots {
  times: number[];
  /** 0: no item yet. */
  version: number;
}

/**
 * Proposal counters in the runtime table, kept with conditional single-item writes only (no transactions):
 *
 * - the total is one counter, incremented by `ADD` only while it is below the cap;
 * - a profile's proposals within the sliding period are a list of times on one item, rewritten under a version check
 *   (read, drop what is older than the period, refuse when full, put with the new time; a lost race re-reads).
 *
 * With both caps, the profile's slot is taken first, then the total; a refused total gives the slot back. Every write
 * is conditional on its cap holding, so neither cap is ever exceeded; at worst a concurrent request for the same
 * profile is refused while a slot is being given back (an under-count, never an over-count). A slot that cannot be
 * given back after the bounded retries stays taken until it slides out of the period, for the same reason.
 * A profile's item under heavy contention that still loses after `maxAttempts` is refused as capped rather than risk
 * exceeding the cap.
 *
 * The total counts only proposals made while the offer had a total cap.
 */
export class DynamoCapStore implements CapStore, CapCarryOver {
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    options: DynamoCapStoreOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 20;
    this.baseDelayMs = options.baseDelayMs ?? 5;
  }

  async reserve(offerId: string, profileId: string, caps: Caps, now: Date): Promise<CapOutcome> {
    const period = caps.perProfile ? { count: caps.perProfile.count, ms: parseDuration(caps.perProfile.period) * 1000 } : undefined;
    const at = now.getTime();
    if (period && !(await this.takeSlot(offerId, profileId, period, at))) return { ok: false, cap: 'perProfile' };
    if (caps.total === undefined) return { ok: true };
    let counted: boolean;
    try {
      counted = await this.countTotal(offerId, caps.total);
    } catch (error) {
      if (period) await this.giveBackSlot(offerId, profileId, period.ms, at);
      throw error;
    }
    if (counted) return { ok: true };
    if (period) await this.giveBackSlot(offerId, profileId, period.ms, at);
    return { ok: false, cap: 'total' };
  }

  async usage(offerId: string, profileId: string, periodSeconds: number, now: Date): Promise<{ total: number; profile: number }> {
    const [{ Item }, slots] = await Promise.all([
      this.db.send(new GetCommand({ TableName: this.table, Key: totalKey(offerId), ConsistentRead: true })),
      this.readSlots(offerId, profileId),
    ]);
    const since = now.getTime() - periodSeconds * 1000;
    return { total: Number(Item?.proposals ?? 0), profile: slots.times.filter((t) => t > since).length };
  }

  /**
   * A merge: adds the absorbed profile's proposal times to the survivor's item, offer by offer (version-conditional
   * puts; a set union, so a repeat changes nothing). The offers are found through the `byProfile` index, which is
   * eventually consistent: a proposal made in the second before the merge may stay with the absorbed id.
   */
  async carryOver(fromProfileId: string, toProfileId: string): Promise<number> {
    let changed = 0;
    for (const offerId of await this.offersCappedFor(fromProfileId)) {
      const from = await this.readSlotItem(offerId, fromProfileId);
      for (let attempt = 1; ; attempt++) {
        const to = await this.readSlotItem(offerId, toProfileId);
        const times = [...new Set([...to.times, ...from.times])].sort((a, b) => a - b);
        if (times.length === to.times.length) break;
        if (await this.putSlots(offerId, toProfileId, times, to.version, Math.max(from.expiresAt, to.expiresAt))) {
          changed++;
          break;
        }
        if (attempt >= this.maxAttempts) {
          throw new Error(`offer ${offerId}: the cap item of ${toProfileId} kept changing during a merge`);
        }
        await this.backoff(attempt);
      }
    }
    return changed;
  }

  private async offersCappedFor(profileId: string): Promise<string[]> {
    const suffix = `#${profileId}`;
    const keys = await profileIndexKeys(this.db, this.table, profileId, 'CAP#');
    return keys.filter((k) => k.sk === 'PROFILE' && k.pk.endsWith(suffix)).map((k) => k.pk.slice('CAP#'.length, -suffix.length));
  }

  private async readSlotItem(offerId: string, profileId: string): Promise<ProfileSlots & { expiresAt: number }> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.table, Key: profileCapKey(offerId, profileId), ConsistentRead: true }),
    );
    if (!Item) return { times: [], version: 0, expiresAt: 0 };
    const times = ((Item.times as unknown[] | undefined) ?? []).map(Number);
    return { times, version: Number(Item.version ?? 0), expiresAt: Number(Item[TableKeys.ttl] ?? 0) };
  }

  /** Counts one proposal against the total, only while it is below `max`. */
  private async countTotal(offerId: string, max: number): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: totalKey(offerId),
          UpdateExpression: 'ADD proposals :one',
          ConditionExpression: 'attribute_not_exists(proposals) OR proposals < :max',
          ExpressionAttributeValues: { ':one': 1, ':max': max },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Adds `at` to the profile's times if fewer than `count` fall within the period; false when full (or still contended). */
  private async takeSlot(offerId: string, profileId: string, period: { count: number; ms: number }, at: number): Promise<boolean> {
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const slots = await this.readSlots(offerId, profileId);
      const live = slots.times.filter((t) => t > at - period.ms);
      if (live.length >= period.count) return false;
      if (await this.writeSlots(offerId, profileId, [...live, at], slots.version, period.ms)) return true;
      await this.backoff(attempt);
    }
    return false;
  }

  /** Removes one `at` from the profile's times (the slot `takeSlot` added). */
  private async giveBackSlot(offerId: string, profileId: string, periodMs: number, at: number): Promise<void> {
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const slots = await this.readSlots(offerId, profileId);
      const index = slots.times.indexOf(at);
      // Gone already: a writer with a later clock dropped it as older than the period.
      if (index < 0) return;
      const times = slots.times.filter((_, i) => i !== index);
      if (await this.writeSlots(offerId, profileId, times, slots.version, periodMs)) return;
      await this.backoff(attempt);
    }
  }

  private async readSlots(offerId: string, profileId: string): Promise<ProfileSlots> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: profileCapKey(offerId, profileId), ConsistentRead: true }));
    if (!Item) return { times: [], version: 0 };
    return { times: ((Item.times as unknown[] | undefined) ?? []).map(Number), version: Number(Item.version ?? 0) };
  }

  /** Puts the times at `version + 1`, only if the item is still at `version` (absent for 0); false when the race was lost. */
  private async writeSlots(offerId: string, profileId: string, times: number[], version: number, periodMs: number): Promise<boolean> {
    const latest = times.length > 0 ? Math.max(...times) : 0;
    return this.putSlots(offerId, profileId, times, version, Math.ceil((latest + periodMs) / 1000) + DAY_SECONDS);
  }

  private async putSlots(
    offerId: string,
    profileId: string,
    times: number[],
    version: number,
    expiresAt: number,
  ): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...profileCapKey(offerId, profileId), times, version: version + 1, profileId, [TableKeys.ttl]: expiresAt },
          ...(version === 0
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': version } }),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  private backoff(attempt: number): Promise<void> {
    return sleep(Math.random() * this.baseDelayMs * Math.min(attempt, 8));
  }
}

const totalKey = (offerId: string) => ({ pk: `CAP#${offerId}`, sk: 'TOTAL' });
const profileCapKey = (offerId: string, profileId: string) => ({ pk: `CAP#${offerId}#${profileId}`, sk: 'PROFILE' });

export interface DynamoDecisionLogOptions {
  /** Days a decision is kept (DynamoDB TTL, counted from the decision's time). @default 90 */
  readonly retentionDays?: number;
  /** What "now" is when a key's expiry is checked (the local runtime's virtual clock). @default systemClock */
  readonly clock?: Clock;
}

const decisionsPk = (profileId: string) => `DECISIONS#${profileId}`;

/** Decisions per profile in the runtime table, newest first by their sort key (`<ISO time>#<id>`), expiring after `retentionDays`. */
// Profile ids are platform-made (no `#`), so `<profile id>#<key>` is unambiguous whatever the key holds.
const decisionKey = (key: Pick<DecisionKey, 'profileId' | 'key'>) => ({
  pk: `DECISIONKEY#${key.profileId}#${key.key}`,
  sk: 'KEY',
});

export class DynamoDecisionLog implements DecisionLog {
  private readonly retentionSeconds: number;
  private readonly clock: Clock;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    options: DynamoDecisionLogOptions = {},
  ) {
    const days = options.retentionDays ?? 90;
    if (!(days > 0)) throw new Error(`decision log: retentionDays must be positive, received ${days}`);
    this.retentionSeconds = Math.round(days * DAY_SECONDS);
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Idempotent: the same decision appended twice is one item. With a key (claimed before), the key item becomes `done`
   * with the same record and expiry; it is written after the log item, so a key never answers an unlogged decision.
   */
  async append(record: DecisionRecord, key?: DecisionKey): Promise<void> {
    const at = Date.parse(record.at);
    if (Number.isNaN(at)) throw new Error(`decision ${record.id}: at must be an ISO-8601 time, received ${JSON.stringify(record.at)}`);
    const expiresAt = Math.floor(at / 1000) + this.retentionSeconds;
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          pk: decisionsPk(record.profileId),
          // Normalised to UTC milliseconds, so the sort key orders by time whatever zone `at` was written in.
          sk: `${new Date(at).toISOString()}#${record.id}`,
          record: JSON.stringify(record),
          profileId: record.profileId,
          [TableKeys.ttl]: expiresAt,
        },
      }),
    );
    if (key === undefined) return;
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          ...decisionKey(key),
          status: 'done',
          fingerprint: key.fingerprint,
          record: JSON.stringify(record),
          profileId: key.profileId,
          [TableKeys.ttl]: expiresAt,
        },
      }),
    );
  }

  /**
   * A conditional put: the key is free (or its item expired and awaits TTL deletion), or, with `expiredLease`, still
   * pending under exactly that lease. Racing claims: DynamoDB applies one; the others fail their condition.
   */
  async claim(key: DecisionKey, leaseUntil: Date, expiredLease?: string): Promise<boolean> {
    const free = {
      ConditionExpression: 'attribute_not_exists(pk) OR #ttl < :now',
      ExpressionAttributeNames: { '#ttl': TableKeys.ttl },
      ExpressionAttributeValues: { ':now': Math.floor(this.clock.now().getTime() / 1000) },
    };
    const takeOver = {
      ConditionExpression: '#status = :pending AND leaseUntil = :lease',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':pending': 'pending', ':lease': expiredLease },
    };
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...decisionKey(key),
            status: 'pending',
            fingerprint: key.fingerprint,
            leaseUntil: leaseUntil.toISOString(),
            profileId: key.profileId,
            [TableKeys.ttl]: Math.floor(leaseUntil.getTime() / 1000) + this.retentionSeconds,
          },
          ...(expiredLease === undefined ? free : takeOver),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async release(key: DecisionKey, leaseUntil: Date): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.table,
          Key: decisionKey(key),
          ConditionExpression: '#status = :pending AND leaseUntil = :lease',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':pending': 'pending', ':lease': leaseUntil.toISOString() },
        }),
      );
    } catch (error) {
      // Already done, or taken over by another request: not ours to give back.
      if (!isConditionFailure(error)) throw error;
    }
  }

  async findByKey(profileId: string, key: string): Promise<DecisionKeyState | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.table, Key: decisionKey({ profileId, key }), ConsistentRead: true }),
    );
    // An expired item may linger until TTL deletes it: it no longer counts.
    if (!Item || (typeof Item[TableKeys.ttl] === 'number' && Item[TableKeys.ttl] * 1000 < this.clock.now().getTime())) return undefined;
    const fingerprint = Item.fingerprint as string;
    if (Item.status === 'pending') return { status: 'pending', fingerprint, leaseUntil: Item.leaseUntil as string };
    return { status: 'done', fingerprint, record: JSON.parse(Item.record as string) as DecisionRecord };
  }

  async list(profileId: string, page: { limit: number; cursor?: string }): Promise<{ decisions: DecisionRecord[]; cursor?: string }> {
    if (!Number.isInteger(page.limit) || page.limit < 1) throw new Error(`decision log: limit must be a positive integer, received ${page.limit}`);
    const pk = decisionsPk(profileId);
    const items: { sk: string; record: string }[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined = page.cursor === undefined ? undefined : { pk, sk: decodeDecisionCursor(page.cursor) };
    // One more than the page, so the last page says so (no cursor) instead of leading to an empty one.
    do {
      const result = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk },
          ScanIndexForward: false,
          Limit: page.limit + 1 - items.length,
          ConsistentRead: true,
          ExclusiveStartKey,
        }),
      );
      for (const item of result.Items ?? []) items.push({ sk: item.sk as string, record: item.record as string });
      ExclusiveStartKey = result.LastEvaluatedKey;
    } while (ExclusiveStartKey && items.length <= page.limit);
    const more = items.length > page.limit;
    if (more) items.length = page.limit;
    const decisions = items.map((item) => JSON.parse(item.record) as DecisionRecord);
    return more ? { decisions, cursor: encodeCursor(items[items.length - 1].sk) } : { decisions };
  }
}

function decodeDecisionCursor(cursor: string): string {
  const sk = Buffer.from(cursor, 'base64url').toString('utf8');
  if (sk.length === 0 || encodeCursor(sk) !== cursor) throw new InvalidCursorError('decision log', cursor);
  return sk;
}
