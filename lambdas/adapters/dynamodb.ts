import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { fromJourneyItem, journeyItem } from '../core/journey/registry-item';
import { ProfileIndex } from '../core/config/env-keys';
import type {
  Enrollment,
  EnrollmentStore,
  JourneyRecord,
  JourneyRegistry,
  Ledger,
  LedgerEntry,
  ProfileRecord,
  ProfileRecords,
  RejectedEvent,
  RejectedEventStore,
  WaitIndex,
  WaitRegistration,
} from '../core/runtime/ports';

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException || (error as { name?: string })?.name === 'ConditionalCheckFailedException';

const DAY = 86400;

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
          // Never over `sent` or `unknown` (it may have gone out): a redriven step does not send it twice.
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
  if (pk.startsWith('DECISIONS#')) return 'decision';
  if (pk.startsWith('CAP#')) return 'offer-cap';
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
