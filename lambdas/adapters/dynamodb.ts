import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetItems } from './dynamodb-batch-get';
import { outcomeAttribute, outcomeTimeAttribute, type EngagementLedger, type LedgerOutcome, type OutcomeKey, type SentLedgerEntry } from '../core/engagement/ports';
import { fromJourneyItem, journeyItem } from '../core/journey/registry-item';
import { ProfileIndex } from '../core/config/env-keys';
import { keyedHash, localPrivacyKey, type PrivacyKey } from '../core/privacy/keys';
import { identityMentions } from '../core/privacy/mentions';
import type {
  DeliveryLedger,
  DeliverySettlement,
  Enrollment,
  EnrollmentStore,
  JourneyRecord,
  JourneyRegistry,
  Ledger,
  LedgerEntry,
  ProfileRecord,
  ProfileRecords,
  RejectedEvent,
  RejectedEventEraser,
  RejectedEventStore,
  WaitIndex,
  WaitRegistration,
} from '../core/runtime/ports';

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException || (error as { name?: string })?.name === 'ConditionalCheckFailedException';

const DAY = 86400;

const mentionKey = (key: string, mention: string) => `REJECTED-MENTION#${keyedHash(key, 'mention', mention)}`;

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

/**
 * The send ledger: one item per (execution, node); the state machine marks it sent or failed after delivery, and
 * engagement events add their outcomes (`outcome#<key>`) to it.
 */
export class DynamoLedger implements Ledger, DeliveryLedger, EngagementLedger {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly retentionDays = 400,
  ) {}

  async get(executionId: string, nodeId: string): Promise<SentLedgerEntry | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: { pk: `LEDGER#${executionId}`, sk: nodeId }, ConsistentRead: true }));
    return Item as SentLedgerEntry | undefined;
  }

  async getMany(keys: readonly { executionId: string; nodeId: string }[]): Promise<(SentLedgerEntry | undefined)[]> {
    const items = await batchGetItems(this.db, this.table, keys.map((k) => ({ pk: `LEDGER#${k.executionId}`, sk: k.nodeId })), { consistent: true });
    return items as (SentLedgerEntry | undefined)[];
  }

  async recordOutcome(executionId: string, nodeId: string, messageId: string, key: OutcomeKey, outcome: LedgerOutcome): Promise<boolean> {
    const time = outcomeTimeAttribute(key);
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `LEDGER#${executionId}`, sk: nodeId },
          UpdateExpression: time ? 'SET #outcome = :outcome, #time = if_not_exists(#time, :at)' : 'SET #outcome = :outcome',
          // Only on the entry of this message, and only the first time: a redelivered event changes nothing.
          ConditionExpression: '#messageId = :messageId AND attribute_not_exists(#outcome)',
          ExpressionAttributeNames: { '#outcome': outcomeAttribute(key), '#messageId': 'messageId', ...(time ? { '#time': time } : {}) },
          ExpressionAttributeValues: { ':outcome': outcome, ':messageId': messageId, ...(time ? { ':at': outcome.at } : {}) },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async settle(executionId: string, nodeId: string, outcome: DeliverySettlement): Promise<boolean> {
    const [name, value] = outcome.status === 'sent' ? ['messageId', outcome.messageId] : ['error', outcome.error];
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `LEDGER#${executionId}`, sk: nodeId },
          UpdateExpression: 'SET #status = :status, #detail = :detail',
          // As the journeys' ledger states: only the transition out of `prepared`, never recreating an erased entry.
          ConditionExpression: '#status = :prepared',
          ExpressionAttributeNames: { '#status': 'status', '#detail': name },
          ExpressionAttributeValues: { ':status': outcome.status, ':detail': value, ':prepared': 'prepared' },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
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
/**
 * The keys of every item of a profile, through the `byProfile` index (eventually consistent), optionally only those
 * whose sort key on the index starts with `prefix`.
 */
export async function profileIndexKeys(db: DynamoDBDocumentClient, table: string, profileId: string, prefix?: string): Promise<{ pk: string; sk: string }[]> {
  const keys: { pk: string; sk: string }[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new QueryCommand({
        TableName: table,
        IndexName: ProfileIndex.name,
        KeyConditionExpression: prefix === undefined ? '#p = :p' : '#p = :p AND begins_with(#k, :prefix)',
        ExpressionAttributeNames: { '#p': ProfileIndex.partitionKey, ...(prefix === undefined ? {} : { '#k': ProfileIndex.sortKey }) },
        ExpressionAttributeValues: { ':p': profileId, ...(prefix === undefined ? {} : { ':prefix': prefix }) },
        ExclusiveStartKey,
      }),
    );
    for (const item of page.Items ?? []) keys.push({ pk: item.pk as string, sk: item.sk as string });
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return keys;
}

export class DynamoProfileRecords implements ProfileRecords {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async list(profileId: string): Promise<ProfileRecord[]> {
    const keys = await profileIndexKeys(this.db, this.table, profileId);
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
  if (pk.startsWith('SENDCAP#')) return 'send-cap';
  if (pk.startsWith('GOAL#')) return 'conversion';
  if (pk.startsWith('CAMPAIGN_GOAL#')) return 'conversion';
  return 'other';
}

/**
 * Invalid events, kept with their reasons for 30 days (TTL), newest first: item pk `REJECTED`, sk `<receivedAt>#<id>`.
 * For each identity the event mentions (`identityMentions`), a marker item pk `REJECTED-MENTION#<keyed hash>`, sk the
 * event's sk, same TTL, written first: erasure finds and deletes the events that name a profile by its identities.
 */
export class DynamoRejectedEventStore implements RejectedEventStore, RejectedEventEraser {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly privacyKey: PrivacyKey = localPrivacyKey,
  ) {}

  async put(rejected: RejectedEvent): Promise<void> {
    const id = createHash('sha256').update(JSON.stringify(rejected.raw)).digest('hex').slice(0, 16);
    const sk = `${rejected.receivedAt}#${id}`;
    const expiresAt = Math.floor(Date.parse(rejected.receivedAt) / 1000) + 30 * DAY;
    const key = await this.privacyKey();
    for (const mention of identityMentions(rejected.raw)) {
      await this.db.send(new PutCommand({ TableName: this.table, Item: { pk: mentionKey(key, mention), sk, expiresAt } }));
    }
    await this.db.send(new PutCommand({ TableName: this.table, Item: { pk: 'REJECTED', sk, ...rejected, raw: JSON.stringify(rejected.raw), expiresAt } }));
  }

  async eraseMentioning(mentions: readonly string[]): Promise<number> {
    const key = await this.privacyKey();
    const erased = new Set<string>();
    for (const mention of mentions) {
      const pk = mentionKey(key, mention);
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await this.db.send(new QueryCommand({ TableName: this.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk }, ExclusiveStartKey }));
        for (const marker of page.Items ?? []) {
          const sk = marker.sk as string;
          if (!erased.has(sk)) await this.db.send(new DeleteCommand({ TableName: this.table, Key: { pk: 'REJECTED', sk } }));
          erased.add(sk);
          await this.db.send(new DeleteCommand({ TableName: this.table, Key: { pk, sk } }));
        }
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
    }
    return erased.size;
  }

  async list(limit: number): Promise<RejectedEvent[]> {
    const { Items } = await this.db.send(
      new QueryCommand({ TableName: this.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'REJECTED' }, ScanIndexForward: false, Limit: limit }),
    );
    return (Items ?? []).map((i) => ({ receivedAt: i.receivedAt, origin: i.origin, errors: i.errors, raw: JSON.parse(i.raw) }));
  }
}
