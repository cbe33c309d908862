import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { BusinessEvent } from '../core/events/business-event';
import { fromJourneyItem, journeyItem } from '../core/journey/registry-item';
import { ProfileIndex } from '../core/config/env-keys';
import type {
  Enrollment,
  EnrollmentStore,
  JourneyRecord,
  JourneyRegistry,
  Ledger,
  LedgerEntry,
  Profile,
  ProfileRecord,
  ProfileRecords,
  ProfileStore,
  RejectedEvent,
  RejectedEventStore,
  WaitIndex,
  WaitRegistration,
} from '../core/runtime/ports';

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException || (error as { name?: string })?.name === 'ConditionalCheckFailedException';

const DAY = 86400;

/**
 * Simple profile resolution: an identity item points at one profile; the first identity already known decides the profile,
 * unknown identities are claimed for it. Attributes merge per attribute, latest event time wins.
 * (The identity graph with merges replaces this behind the same port.)
 */
export class DynamoProfileStore implements ProfileStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  static newProfileId(namespace: string, value: string): string {
    return `p-${createHash('sha256').update(`${namespace}:${value}`).digest('hex').slice(0, 24)}`;
  }

  async get(profileId: string): Promise<Profile | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: { pk: `PROFILE#${profileId}`, sk: 'PROFILE' }, ConsistentRead: true }));
    return Item ? toProfile(Item) : undefined;
  }

  async upsertFromEvent(event: BusinessEvent): Promise<Profile> {
    const identities = Object.entries(event.identities).sort(([a], [b]) => a.localeCompare(b));
    let profileId: string | undefined;
    const unclaimed: [string, string][] = [];
    for (const [namespace, value] of identities) {
      const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: { pk: `IDENTITY#${namespace}#${value}`, sk: 'IDENTITY' } }));
      if (Item && profileId === undefined) profileId = Item.profileId as string;
      else if (!Item) unclaimed.push([namespace, value]);
    }
    profileId ??= DynamoProfileStore.newProfileId(identities[0][0], identities[0][1]);
    for (const [namespace, value] of unclaimed) {
      try {
        await this.db.send(
          new PutCommand({
            TableName: this.table,
            Item: { pk: `IDENTITY#${namespace}#${value}`, sk: 'IDENTITY', profileId, namespace, claimedAt: event.time },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
      } catch (error) {
        // Claimed concurrently by another profile: linking the two is the merge's job, not this simple resolver's.
        if (!isConditionFailure(error)) throw error;
      }
    }
    for (let attempt = 0; ; attempt++) {
      const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: { pk: `PROFILE#${profileId}`, sk: 'PROFILE' }, ConsistentRead: true }));
      const version = (Item?.version as number | undefined) ?? 0;
      const next = mergeEvent(Item, profileId, event);
      if (Item && !next.changed) return toProfile(Item);
      try {
        await this.db.send(
          new PutCommand({
            TableName: this.table,
            Item: { ...next.item, version: version + 1 },
            ConditionExpression: Item ? 'version = :v' : 'attribute_not_exists(pk)',
            ...(Item ? { ExpressionAttributeValues: { ':v': version } } : {}),
          }),
        );
        return toProfile(next.item);
      } catch (error) {
        if (!isConditionFailure(error) || attempt >= 8) throw error;
      }
    }
  }
}

function toProfile(item: Record<string, unknown>): Profile {
  return {
    id: item.profileId as string,
    attributes: (item.attributes as Record<string, unknown>) ?? {},
    identities: (item.identities as Record<string, string>) ?? {},
    createdAt: item.createdAt as string,
    updatedAt: item.updatedAt as string,
  };
}

/** Applies an event to a stored profile item: identities added, each attribute kept if its stored time is later. */
export function mergeEvent(item: Record<string, unknown> | undefined, profileId: string, event: BusinessEvent): { item: Record<string, unknown>; changed: boolean } {
  const identities = { ...((item?.identities as Record<string, string>) ?? {}) };
  const attributes = { ...((item?.attributes as Record<string, unknown>) ?? {}) };
  const times = { ...((item?.attributeTimes as Record<string, string>) ?? {}) };
  let changed = !item;
  for (const [namespace, value] of Object.entries(event.identities)) {
    if (identities[namespace] === undefined) {
      identities[namespace] = value;
      changed = true;
    }
  }
  for (const [name, value] of Object.entries(event.attributes ?? {})) {
    const storedAt = times[name];
    if (storedAt !== undefined && Date.parse(storedAt) > Date.parse(event.time)) continue;
    if (attributes[name] === value && storedAt === event.time) continue;
    attributes[name] = value;
    times[name] = event.time;
    changed = true;
  }
  return {
    changed,
    item: {
      pk: `PROFILE#${profileId}`,
      sk: 'PROFILE',
      profileId,
      identities,
      attributes,
      attributeTimes: times,
      createdAt: (item?.createdAt as string) ?? event.time,
      updatedAt: event.time,
    },
  };
}

/** Journeys as registered at deploy time (or by the local stack at start), cached briefly per container. */
export class DynamoJourneyRegistry implements JourneyRegistry {
  private cache?: { at: number; records: JourneyRecord[] };

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly ttlMs = 30_000,
  ) {}

  async list(): Promise<JourneyRecord[]> {
    if (this.cache && Date.now() - this.cache.at < this.ttlMs) return this.cache.records;
    const records: JourneyRecord[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': 'JOURNEYS' },
          ExclusiveStartKey,
        }),
      );
      for (const item of page.Items ?? []) records.push(fromJourneyItem(item));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    this.cache = { at: Date.now(), records };
    return records;
  }

  async get(journeyId: string): Promise<JourneyRecord | undefined> {
    return (await this.list()).find((r) => r.journey.id === journeyId);
  }

  async put(record: JourneyRecord): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: journeyItem(record) }));
    this.cache = undefined;
  }
}

export class DynamoEnrollmentStore implements EnrollmentStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(journeyId: string, profileId: string): Promise<Enrollment | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: { pk: `ENROLL#${journeyId}#${profileId}`, sk: 'ENROLL' }, ConsistentRead: true }));
    return Item ? { journeyId, profileId, executionName: Item.executionName, executionArn: Item.executionArn, enteredAt: Item.enteredAt } : undefined;
  }

  async recordRun(enrollment: Enrollment, expiresAt: number): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: { pk: `RUN#${enrollment.executionArn}`, sk: 'RUN', ...enrollment, expiresAt } }));
  }

  async replace(enrollment: Enrollment, expectedPrevious: string | undefined): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: `ENROLL#${enrollment.journeyId}#${enrollment.profileId}`, sk: 'ENROLL', ...enrollment },
          ConditionExpression: expectedPrevious === undefined ? 'attribute_not_exists(pk)' : 'executionName = :previous',
          ...(expectedPrevious === undefined ? {} : { ExpressionAttributeValues: { ':previous': expectedPrevious } }),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}

export class DynamoWaitIndex implements WaitIndex {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async register(registrations: WaitRegistration[]): Promise<void> {
    for (const r of registrations) {
      await this.db.send(new PutCommand({ TableName: this.table, Item: { pk: `WAIT#${r.key}`, sk: `${r.executionId}#${r.nodeId}`, ...r } }));
    }
  }

  async find(key: string): Promise<WaitRegistration[]> {
    const { Items } = await this.db.send(
      new QueryCommand({ TableName: this.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `WAIT#${key}` }, ConsistentRead: true }),
    );
    return (Items ?? []).map((i) => ({ key, executionId: i.executionId, nodeId: i.nodeId, token: i.token, profileId: i.profileId, expiresAt: i.expiresAt }));
  }

  async remove(r: Pick<WaitRegistration, 'key' | 'executionId' | 'nodeId'>): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: { pk: `WAIT#${r.key}`, sk: `${r.executionId}#${r.nodeId}` } }));
  }
}

/** The send ledger: one item per (execution, node); the state machine marks it sent or failed after delivery. */
export class DynamoLedger implements Ledger {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly retentionDays = 400,
  ) {}

  async get(executionId: string, nodeId: string): Promise<LedgerEntry | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: { pk: `LEDGER#${executionId}`, sk: nodeId }, ConsistentRead: true }));
    return Item as LedgerEntry | undefined;
  }

  async prepare(entry: LedgerEntry): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: `LEDGER#${entry.executionId}`, sk: entry.nodeId, ...entry, expiresAt: Math.floor(Date.parse(entry.preparedAt) / 1000) + this.retentionDays * DAY },
          ConditionExpression: 'attribute_not_exists(pk) OR #status IN (:prepared, :failed)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':prepared': 'prepared', ':failed': 'failed' },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}

/** The runtime items of a profile, through the profile index (keys only), then read for their execution ids. */
export class DynamoProfileRecords implements ProfileRecords {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async list(profileId: string): Promise<ProfileRecord[]> {
    const keys: { pk: string; sk: string }[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: ProfileIndex.name,
          KeyConditionExpression: '#p = :p',
          ExpressionAttributeNames: { '#p': ProfileIndex.partitionKey },
          ExpressionAttributeValues: { ':p': profileId },
          ExclusiveStartKey,
        }),
      );
      for (const item of page.Items ?? []) keys.push({ pk: item.pk as string, sk: item.sk as string });
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    const records: ProfileRecord[] = [];
    for (const key of keys) {
      const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }));
      if (!Item) continue;
      records.push({ ...key, kind: recordKind(key.pk), executionId: (Item.executionArn ?? Item.executionId) as string | undefined, item: Item });
    }
    return records;
  }

  async remove(records: readonly Pick<ProfileRecord, 'pk' | 'sk'>[]): Promise<void> {
    for (const { pk, sk } of records) await this.db.send(new DeleteCommand({ TableName: this.table, Key: { pk, sk } }));
  }
}

function recordKind(pk: string): ProfileRecord['kind'] {
  if (pk.startsWith('ENROLL#')) return 'enrollment';
  if (pk.startsWith('RUN#')) return 'run';
  if (pk.startsWith('WAIT#')) return 'wait';
  if (pk.startsWith('LEDGER#')) return 'ledger';
  return 'other';
}

/** Invalid events, kept with their reasons for 30 days, newest first. */
export class DynamoRejectedEventStore implements RejectedEventStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async put(rejected: RejectedEvent): Promise<void> {
    const id = createHash('sha256').update(JSON.stringify(rejected.raw)).digest('hex').slice(0, 16);
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: 'REJECTED', sk: `${rejected.receivedAt}#${id}`, ...rejected, raw: JSON.stringify(rejected.raw), expiresAt: Math.floor(Date.parse(rejected.receivedAt) / 1000) + 30 * DAY },
      }),
    );
  }

  async list(limit: number): Promise<RejectedEvent[]> {
    const { Items } = await this.db.send(
      new QueryCommand({ TableName: this.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'REJECTED' }, ScanIndexForward: false, Limit: limit }),
    );
    return (Items ?? []).map((i) => ({ receivedAt: i.receivedAt, origin: i.origin, errors: i.errors, raw: JSON.parse(i.raw) }));
  }
}
