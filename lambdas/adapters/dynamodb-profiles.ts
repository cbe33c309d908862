import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetItems } from './dynamodb-batch-get';
import { TableKeys } from '../core/config/env-keys';
import type { BusinessEvent } from '../core/events/business-event';
import { emptyProfileMaps, eventIdentities, normalizeTime, sourcesAbove, summedProperties } from '../core/profiles/merge-policy';
import { defaultProfilePolicy, ProfileLimits, type AttributeValue, type ComputedStats, type ConsentState, type ProfilePolicy, type ProfileState, type RecentEvent } from '../core/profiles/model';
import type { EventRecord, ProfileStorage } from '../core/profiles/storage';
import { GraphProfileStore } from '../core/profiles/store';
import type { PrivacyKey } from '../core/privacy/keys';
import type { Clock } from '../core/runtime/ports';
import { dict, own } from '../core/shared/records';

/**
 * The identity graph in the profiles table (keys `pk`/`sk`, TTL `expiresAt`):
 *
 * | item     | pk                           | sk               | attributes |
 * |----------|------------------------------|------------------|------------|
 * | identity | `IDENTITY#<namespace>#<value>` | `IDENTITY`     | profileId |
 * | profile  | `PROFILE#<id>`               | `PROFILE`        | status, mergedInto, version, createdAt, updatedAt, absorbed (list), pendingIds (string set; `p#<event id>` its record time), flushedAt, types and attributeNames (string sets of the counted event types and held attribute names), and one top-level attribute per fact: `a#<name>` value, `t#<name>` time, `s#<name>` source, `k#<consent key>` {status, at, source, via, history}, `c#<type>#count`, `c#<type>#first`, `c#<type>#last`, `c#<type>#sum#<property>`, `c#<type>#sums` (string set of its summed names), `i#<namespace>#<value>` first seen |
 * | event    | `PROFILE#<id>`               | `EVENT#<event id>` | id, type, time, source, properties (JSON text), receivedAt, expiresAt, applied |
 *
 * Facts are top-level attributes so that the common event is one UpdateItem of ADDs and SETs, with no read first
 * (ADD needs no existing parent map). Event types and identity namespaces contain no `#`, so names split unambiguously.
 * Outside names appear only after a prefix (`a#constructor`), never as a key of a nested map: the document client's
 * marshalling loses a `__proto__` key and throws on a `constructor` key, so an event's properties are kept as JSON text.
 */
export class DynamoProfileStorage implements ProfileStorage {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly clock: Clock,
    private readonly windowDays = defaultProfilePolicy.window.days,
  ) {}

  /**
   * Reads the pointer, then deletes it only if it still points where it did: no `IN` over the profile ids, which takes
   * at most 100 operands (docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.OperatorsAndFunctions.html,
   * Comparators) and would fail for a profile that absorbed more than 99 others. A pointer moved meanwhile is read again.
   */
  async deleteIdentity(namespace: string, value: string, profileIds: readonly string[]): Promise<boolean> {
    const owners = new Set(profileIds);
    for (;;) {
      const current = await this.readIdentity(namespace, value);
      if (current === undefined || !owners.has(current)) return false;
      const deleted = await this.conditional(
        new DeleteCommand({ TableName: this.table, Key: identityKey(namespace, value), ConditionExpression: 'profileId = :p', ExpressionAttributeValues: { ':p': current } }),
      );
      if (deleted) return true;
    }
  }

  async deleteProfileItems(profileId: string): Promise<number> {
    let deleted = 0;
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({ TableName: this.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': profileKey(profileId).pk }, ProjectionExpression: 'pk, sk', ExclusiveStartKey }),
      );
      for (const key of page.Items ?? []) {
        await this.db.send(new DeleteCommand({ TableName: this.table, Key: { pk: key.pk, sk: key.sk } }));
        deleted++;
      }
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return deleted;
  }

  async readIdentity(namespace: string, value: string): Promise<string | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: identityKey(namespace, value), ConsistentRead: true, ProjectionExpression: 'profileId' }));
    return Item?.profileId as string | undefined;
  }

  async claimIdentity(namespace: string, value: string, profileId: string): Promise<string> {
    const created = await this.conditional(
      new PutCommand({ TableName: this.table, Item: { ...identityKey(namespace, value), profileId, namespace, value }, ConditionExpression: 'attribute_not_exists(pk)' }),
    );
    return created ? profileId : ((await this.readIdentity(namespace, value)) ?? profileId);
  }

  async repointIdentity(namespace: string, value: string, from: string, to: string): Promise<void> {
    await this.conditional(
      new UpdateCommand({
        TableName: this.table,
        Key: identityKey(namespace, value),
        UpdateExpression: 'SET profileId = :to',
        ConditionExpression: 'profileId = :from',
        ExpressionAttributeValues: { ':to': to, ':from': from },
      }),
    );
  }

  async readProfile(profileId: string): Promise<ProfileState | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: profileKey(profileId), ConsistentRead: true }));
    return Item ? fromItem(Item) : undefined;
  }

  async readProfiles(profileIds: readonly string[]): Promise<(ProfileState | undefined)[]> {
    const items = await batchGetItems(this.db, this.table, profileIds.map(profileKey), { consistent: true });
    return items.map((item) => (item ? fromItem(item) : undefined));
  }

  createProfile(state: ProfileState): Promise<boolean> {
    return this.conditional(new PutCommand({ TableName: this.table, Item: toItem(state), ConditionExpression: 'attribute_not_exists(pk)' }));
  }

  replaceProfile(state: ProfileState, expectedVersion: number): Promise<boolean> {
    return this.conditional(
      new PutCommand({
        TableName: this.table,
        Item: toItem(state),
        ConditionExpression: 'version = :v AND #status = :active',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':v': expectedVersion, ':active': 'active' },
      }),
    );
  }

  async applyIncrement(profileId: string, event: BusinessEvent, now: Date, policy: ProfilePolicy): Promise<ProfileState | undefined> {
    const update = incrementExpression(event, now, policy);
    if (!update) return undefined;
    try {
      const { Attributes } = await this.db.send(new UpdateCommand({ TableName: this.table, Key: profileKey(profileId), ...update, ReturnValues: 'ALL_NEW' }));
      return fromItem(Attributes!);
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  async freeze(profileId: string, into: string): Promise<ProfileState | undefined> {
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: profileKey(profileId),
          UpdateExpression: 'SET #status = :merging, mergedInto = :into ADD version :one',
          ConditionExpression: '#status = :active',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':merging': 'merging', ':active': 'active', ':into': into, ':one': 1 },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return fromItem(Attributes!);
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return this.readProfile(profileId);
    }
  }

  async markMerged(profileId: string, into: string, at: Date): Promise<void> {
    await this.conditional(
      new UpdateCommand({
        TableName: this.table,
        Key: profileKey(profileId),
        UpdateExpression: 'SET #status = :merged, mergedInto = :into, mergedAt = :at',
        ConditionExpression: '#status = :merging',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':merged': 'merged', ':merging': 'merging', ':into': into, ':at': at.toISOString() },
      }),
    );
  }

  recordEvent(profileId: string, entry: EventRecord): Promise<boolean> {
    const expiresAt = Math.floor(Date.parse(entry.receivedAt) / 1000) + this.windowDays * 86_400;
    return this.conditional(
      new PutCommand({
        TableName: this.table,
        Item: {
          pk: profileKey(profileId).pk,
          sk: `EVENT#${entry.id}`,
          ...entry,
          properties: JSON.stringify(entry.properties),
          [TableKeys.ttl]: expiresAt,
        },
        // An expired record that TTL has not deleted yet counts as gone.
        ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
        ExpressionAttributeValues: { ':now': this.nowSeconds() },
      }),
    );
  }

  markApplied(profileId: string, eventId: string): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: profileKey(profileId).pk, sk: `EVENT#${eventId}` },
        UpdateExpression: 'SET applied = :true',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':true': true },
      }),
    );
  }

  async readEvent(profileId: string, eventId: string): Promise<EventRecord | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: { pk: profileKey(profileId).pk, sk: `EVENT#${eventId}` }, ConsistentRead: true }));
    return Item && !this.expired(Item) ? toEventRecord(Item) : undefined;
  }

  async listEvents(profileId: string): Promise<EventRecord[]> {
    const events: EventRecord[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :event)',
          ExpressionAttributeValues: { ':pk': profileKey(profileId).pk, ':event': 'EVENT#' },
          ConsistentRead: true,
          ExclusiveStartKey,
        }),
      );
      for (const item of page.Items ?? []) if (!this.expired(item)) events.push(toEventRecord(item));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return events;
  }

  private nowSeconds(): number {
    return Math.floor(this.clock.now().getTime() / 1000);
  }

  /** TTL deletes within days of expiry, so reads leave out what has expired already. */
  private expired(item: Record<string, unknown>): boolean {
    return typeof item[TableKeys.ttl] === 'number' && (item[TableKeys.ttl] as number) <= this.nowSeconds();
  }

  /** Sends a conditional write; false when its condition did not hold. */
  private async conditional(command: PutCommand | UpdateCommand | DeleteCommand): Promise<boolean> {
    try {
      await (command instanceof PutCommand ? this.db.send(command) : this.db.send(command));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}

export interface DynamoProfileStoreOptions {
  clock: Clock;
  /** @default defaultProfilePolicy */
  policy?: ProfilePolicy;
  /** The key of new profile ids. @default the local stack's fixed key */
  privacyKey?: PrivacyKey;
}

/** The ProfileStore port backed by DynamoDB (the profiles table). */
export function createDynamoProfileStore(db: DynamoDBDocumentClient, table: string, options: DynamoProfileStoreOptions): GraphProfileStore {
  const policy = options.policy ?? defaultProfilePolicy;
  return new GraphProfileStore({ storage: new DynamoProfileStorage(db, table, options.clock, policy.window.days), clock: options.clock, policy, privacyKey: options.privacyKey });
}

export type RequestCounts = { reads: number; writes: number; byCommand: Record<string, number> };

const READS = new Set(['GetItemCommand', 'QueryCommand', 'BatchGetItemCommand', 'ScanCommand', 'TransactGetItemsCommand']);

/**
 * Counts the requests a DynamoDB client sends (one per command, before SDK retries), by a middleware on the client:
 * how the bench and the tests measure requests per event. Returns a live view and a reset.
 */
export function countRequests(client: DynamoDBClient): { counts: RequestCounts; reset(): void } {
  const counts: RequestCounts = { reads: 0, writes: 0, byCommand: {} };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? 'unknown';
      counts.byCommand[command] = (counts.byCommand[command] ?? 0) + 1;
      if (READS.has(command)) counts.reads++;
      else counts.writes++;
      return next(args);
    },
    { step: 'initialize', name: 'waymarkRequestCounter' },
  );
  return {
    counts,
    reset() {
      counts.reads = 0;
      counts.writes = 0;
      counts.byCommand = {};
    },
  };
}

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException || (error as { name?: string })?.name === 'ConditionalCheckFailedException';

const identityKey = (namespace: string, value: string) => ({ pk: `IDENTITY#${namespace}#${value}`, sk: 'IDENTITY' });
const profileKey = (profileId: string) => ({ pk: `PROFILE#${profileId}`, sk: 'PROFILE' });

const MAX_EXPRESSION = 4000;

/**
 * The single UpdateItem that applies an event without a read: exactly `applyEvent`'s result whenever its condition
 * (the same as `canApplyIncrementally`) holds. Undefined when the expressions would outgrow DynamoDB's 4 KB limit.
 */
export function incrementExpression(event: BusinessEvent, now: Date, policy: ProfilePolicy) {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const nameOf = new Map<string, string>();
  const name = (attribute: string) => {
    if (!nameOf.has(attribute)) {
      nameOf.set(attribute, `#n${nameOf.size}`);
      names[`#n${nameOf.size - 1}`] = attribute;
    }
    return nameOf.get(attribute)!;
  };
  let valueCount = 0;
  const value = (v: unknown) => {
    const placeholder = `:v${valueCount++}`;
    values[placeholder] = v;
    return placeholder;
  };
  const set: string[] = [];
  const add: string[] = [];
  const conditions: string[] = [];

  const at = value(normalizeTime(event.time));
  conditions.push(`${name('status')} = ${value('active')}`);
  // As `canApplyIncrementally`: the id not pending, room in `pending`, no flush of an id recorded since this record.
  const pending = name('pendingIds');
  const recordedAt = value(now.toISOString());
  conditions.push(`attribute_not_exists(${name(`p#${event.id}`)})`);
  conditions.push(`(attribute_not_exists(${pending}) OR size(${pending}) < ${value(ProfileLimits.pending)})`);
  conditions.push(`(attribute_not_exists(${name('flushedAt')}) OR ${name('flushedAt')} < ${recordedAt})`);
  set.push(`${name(`p#${event.id}`)} = ${recordedAt}`);
  add.push(`${pending} ${value(new Set([event.id]))}`, `${name('version')} ${value(1)}`);
  set.push(`${name('updatedAt')} = ${value(now.toISOString())}`);

  // Consent keeps a bounded history (read-modify-write); identities are first linked at receipt time.
  if (Object.keys(event.consent ?? {}).length > 0) return undefined;
  const received = value(now.toISOString());
  for (const [namespace, id] of eventIdentities(event)) {
    const first = name(`i#${namespace}#${id}`);
    conditions.push(`(attribute_not_exists(${first}) OR ${first} <= ${received})`);
    set.push(`${first} = if_not_exists(${first}, ${received})`);
  }
  const above = sourcesAbove(event.source, policy);
  const attributes = Object.entries(event.attributes ?? {});
  if (attributes.length > 0) {
    // Every attribute held already, or room for all of them (ProfileLimits.attributes); else the read path decides.
    const held = name('attributeNames');
    const all = attributes.map(([attribute]) => `attribute_exists(${name(`t#${attribute}`)})`).join(' AND ');
    const room = value(ProfileLimits.attributes - attributes.length);
    conditions.push(`((${all}) OR attribute_not_exists(${held}) OR size(${held}) <= ${room})`);
    add.push(`${held} ${value(new Set(attributes.map(([attribute]) => attribute)))}`);
  }
  const source = attributes.length > 0 ? value(event.source) : '';
  for (const [attribute, attributeValue] of attributes) {
    const time = name(`t#${attribute}`);
    const heldSource = name(`s#${attribute}`);
    const rank = above.length === 0 ? '' : ` AND NOT (${heldSource} IN (${above.map((s) => value(s)).join(', ')}))`;
    conditions.push(`(attribute_not_exists(${time}) OR (${time} < ${at}${rank}))`);
    set.push(`${name(`a#${attribute}`)} = ${value(attributeValue)}`, `${time} = ${at}`, `${heldSource} = ${source}`);
  }
  const prefix = `c#${event.type}#`;
  const last = name(`${prefix}last`);
  const first = name(`${prefix}first`);
  const count = name(`${prefix}count`);
  const types = name('types');
  // The type counted already, or room for one more (ProfileLimits.computedTypes); else the read path skips it.
  const maxTypes = value(ProfileLimits.computedTypes);
  conditions.push(`(attribute_exists(${count}) OR attribute_not_exists(${types}) OR size(${types}) < ${maxTypes})`);
  conditions.push(`(attribute_not_exists(${last}) OR ${last} <= ${at})`);
  set.push(`${last} = ${at}`, `${first} = if_not_exists(${first}, ${at})`);
  add.push(`${count} ${value(1)}`, `${types} ${value(new Set([event.type]))}`);
  const sums = summedProperties(event, policy);
  if (sums.length > 0) {
    // Every summed name held already, or room for all of them (ProfileLimits.sumsPerType).
    const held = name(`${prefix}sums`);
    const all = sums.map(([property]) => `attribute_exists(${name(`${prefix}sum#${property}`)})`).join(' AND ');
    const room = value(ProfileLimits.sumsPerType - sums.length);
    conditions.push(`((${all}) OR attribute_not_exists(${held}) OR size(${held}) <= ${room})`);
    add.push(`${held} ${value(new Set(sums.map(([property]) => property)))}`);
  }
  for (const [property, amount] of sums) add.push(`${name(`${prefix}sum#${property}`)} ${value(amount)}`);

  const UpdateExpression = `SET ${set.join(', ')} ADD ${add.join(', ')}`;
  const ConditionExpression = conditions.join(' AND ');
  if (UpdateExpression.length > MAX_EXPRESSION || ConditionExpression.length > MAX_EXPRESSION) return undefined;
  return { UpdateExpression, ConditionExpression, ExpressionAttributeNames: names, ExpressionAttributeValues: values };
}

export function toItem(state: ProfileState): Record<string, unknown> {
  const item: Record<string, unknown> = {
    ...profileKey(state.id),
    profileId: state.id,
    status: state.status,
    ...(state.mergedInto ? { mergedInto: state.mergedInto } : {}),
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
    version: state.version,
    absorbed: state.absorbed,
  };
  if (state.pending.length > 0) item.pendingIds = new Set(state.pending.map(([id]) => id));
  for (const [id, recordedAt] of state.pending) item[`p#${id}`] = recordedAt;
  if (state.flushedAt) item.flushedAt = state.flushedAt;
  if (Object.keys(state.computed).length > 0) item.types = new Set(Object.keys(state.computed));
  for (const [namespace, values] of Object.entries(state.identities)) for (const [value, first] of Object.entries(values)) item[`i#${namespace}#${value}`] = first;
  for (const [attribute, value] of Object.entries(state.attributes)) {
    item[`a#${attribute}`] = value;
    item[`t#${attribute}`] = state.attributeTimes[attribute];
    item[`s#${attribute}`] = state.attributeSources[attribute];
  }
  if (Object.keys(state.attributeTimes).length > 0) item.attributeNames = new Set(Object.keys(state.attributeTimes));
  for (const [key, consent] of Object.entries(state.consent)) item[`k#${key}`] = consent;
  for (const [type, stats] of Object.entries(state.computed)) {
    item[`c#${type}#count`] = stats.count;
    item[`c#${type}#first`] = stats.firstSeen;
    item[`c#${type}#last`] = stats.lastSeen;
    for (const [property, total] of Object.entries(stats.sums)) item[`c#${type}#sum#${property}`] = total;
    if (Object.keys(stats.sums).length > 0) item[`c#${type}#sums`] = new Set(Object.keys(stats.sums));
  }
  return item;
}

export function fromItem(item: Record<string, unknown>): ProfileState {
  const state: ProfileState = {
    id: item.profileId as string,
    status: item.status as ProfileState['status'],
    ...(item.mergedInto ? { mergedInto: item.mergedInto as string } : {}),
    // Keyed by outside names (`i#constructor#…`, `c#toString#…`): null-prototype records, so no name reaches Object.
    ...emptyProfileMaps(),
    pending: [],
    ...(item.flushedAt ? { flushedAt: item.flushedAt as string } : {}),
    absorbed: (item.absorbed as string[] | undefined) ?? [],
    createdAt: item.createdAt as string,
    updatedAt: item.updatedAt as string,
    version: Number(item.version ?? 0),
  };
  const stats = (type: string): ComputedStats =>
    own(state.computed, type) ?? (state.computed[type] = { count: 0, firstSeen: '', lastSeen: '', sums: dict() });
  for (const [attribute, value] of Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const cut = attribute.indexOf('#');
    if (cut < 0) continue;
    const kind = attribute.slice(0, cut);
    const rest = attribute.slice(cut + 1);
    if (kind === 'a') state.attributes[rest] = value as AttributeValue;
    else if (kind === 't') state.attributeTimes[rest] = value as string;
    else if (kind === 's') state.attributeSources[rest] = value as string;
    else if (kind === 'k') state.consent[rest] = value as ConsentState;
    else if (kind === 'p') state.pending.push([rest, value as string]);
    else if (kind === 'i') {
      const split = rest.indexOf('#');
      const namespace = rest.slice(0, split);
      const values = own(state.identities, namespace) ?? (state.identities[namespace] = dict());
      values[rest.slice(split + 1)] = value as string;
    } else if (kind === 'c') {
      const split = rest.indexOf('#');
      const type = rest.slice(0, split);
      const field = rest.slice(split + 1);
      if (field === 'count') stats(type).count = Number(value);
      else if (field === 'first') stats(type).firstSeen = value as string;
      else if (field === 'last') stats(type).lastSeen = value as string;
      else if (field.startsWith('sum#')) stats(type).sums[field.slice(4)] = Number(value);
    }
  }
  return state;
}

/** The event record an `EVENT#` item of the profiles table holds: its window entry and the `applied` mark. */
function toEventRecord(item: Record<string, unknown>): EventRecord {
  return item.applied === true ? { ...toRecentEvent(item), applied: true } : toRecentEvent(item);
}

/** The window entry an `EVENT#` item of the profiles table holds. */
export function toRecentEvent(item: Record<string, unknown>): RecentEvent {
  return {
    id: item.id as string,
    type: item.type as string,
    time: item.time as string,
    source: item.source as string,
    // JSON text keeps every name (`__proto__` as an own key); a map is what records written before held.
    properties: dict(Object.entries(typeof item.properties === 'string' ? JSON.parse(item.properties) : (item.properties ?? {}))),
    receivedAt: item.receivedAt as string,
  };
}
