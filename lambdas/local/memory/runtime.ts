import { createHash } from 'node:crypto';
import { fromJourneyItem, journeyItem } from '../../core/journey/registry-item';
import { keyedHash, localPrivacyKey, type PrivacyKey } from '../../core/privacy/keys';
import { identityMentions } from '../../core/privacy/mentions';
import type {
  Enrollment,
  EnrollmentStore,
  JourneyRecord,
  JourneyRegistry,
  DeliveryLedger,
  DeliverySettlement,
  Ledger,
  LedgerEntry,
  ProfileRecord,
  ProfileRecords,
  RejectedEvent,
  RejectedEventEraser,
  RejectedEventStore,
  WaitIndex,
  WaitRegistration,
} from '../../core/runtime/ports';
import { MemoryValidationError, type MemoryTable } from './table';
import { outcomeAttribute, outcomeTimeAttribute, type EngagementLedger, type LedgerOutcome, type OutcomeKey, type SentLedgerEntry } from '../../core/engagement/ports';

/**
 * The runtime ports of lambdas/adapters/dynamodb.ts over in-memory tables: the same items under the same keys, the
 * same conditions, so `MemoryProfileRecords` finds through the byProfile index exactly what erasure finds on AWS.
 */

const DAY = 86400;

/**
 * Journeys as registered (the journeys-table items, through the same serialisation). Parsed once and kept until the
 * next `put` (the DynamoDB registry keeps its list 30 s): validating every definition takes about 2 ms a list.
 */
export class MemoryJourneyRegistry implements JourneyRegistry {
  private cache?: JourneyRecord[];

  constructor(private readonly table: MemoryTable) {}

  async list(): Promise<JourneyRecord[]> {
    this.cache ??= this.table.query('JOURNEYS').map(fromJourneyItem);
    return this.cache;
  }

  async get(journeyId: string): Promise<JourneyRecord | undefined> {
    return (await this.list()).find((r) => r.journey.id === journeyId);
  }

  async put(record: JourneyRecord): Promise<void> {
    this.table.put(journeyItem(record));
    this.cache = undefined;
  }
}

export class MemoryEnrollmentStore implements EnrollmentStore {
  constructor(private readonly table: MemoryTable) {}

  async get(journeyId: string, profileId: string): Promise<Enrollment | undefined> {
    const item = this.table.get(enrollKey(journeyId, profileId));
    if (!item) return undefined;
    const { executionName, executionArn, enteredAt } = item as unknown as Enrollment;
    return { journeyId, profileId, executionName, executionArn, enteredAt };
  }

  async recordRun(enrollment: Enrollment, expiresAt: number): Promise<void> {
    this.table.put({ pk: `RUN#${enrollment.executionArn}`, sk: 'RUN', ...enrollment, expiresAt });
  }

  async replace(enrollment: Enrollment, expectedPrevious: string | undefined): Promise<boolean> {
    const key = enrollKey(enrollment.journeyId, enrollment.profileId);
    const held = this.table.get(key);
    // attribute_not_exists(pk) | executionName = :previous
    const ok = expectedPrevious === undefined ? held === undefined : held?.executionName === expectedPrevious;
    if (ok) this.table.put({ ...key, ...enrollment });
    return ok;
  }
}

const enrollKey = (journeyId: string, profileId: string) => ({ pk: `ENROLL#${journeyId}#${profileId}`, sk: 'ENROLL' });

export class MemoryWaitIndex implements WaitIndex {
  constructor(private readonly table: MemoryTable) {}

  async register(registrations: WaitRegistration[]): Promise<void> {
    for (const r of registrations) this.table.put({ pk: `WAIT#${r.key}`, sk: `${r.executionId}#${r.nodeId}`, ...r });
  }

  async find(key: string): Promise<WaitRegistration[]> {
    return this.table.query(`WAIT#${key}`).map((i) => ({
      key,
      executionId: i.executionId as string,
      nodeId: i.nodeId as string,
      token: i.token as string,
      profileId: i.profileId as string,
      expiresAt: i.expiresAt as number,
    }));
  }

  async remove(r: Pick<WaitRegistration, 'key' | 'executionId' | 'nodeId'>): Promise<void> {
    this.table.delete({ pk: `WAIT#${r.key}`, sk: `${r.executionId}#${r.nodeId}` });
  }
}

/** The send ledger (LEDGER#<execution id> / <node id>); the compiled ASL's UpdateItem marks it (`memoryUpdateItem`). */
export class MemoryLedger implements Ledger, DeliveryLedger, EngagementLedger {
  constructor(
    private readonly table: MemoryTable,
    private readonly retentionDays = 400,
  ) {}

  async get(executionId: string, nodeId: string): Promise<SentLedgerEntry | undefined> {
    return this.table.get({ pk: `LEDGER#${executionId}`, sk: nodeId }) as SentLedgerEntry | undefined;
  }

  async getMany(keys: readonly { executionId: string; nodeId: string }[]): Promise<(SentLedgerEntry | undefined)[]> {
    return Promise.all(keys.map((k) => this.get(k.executionId, k.nodeId)));
  }

  async recordOutcome(executionId: string, nodeId: string, messageId: string, key: OutcomeKey, outcome: LedgerOutcome): Promise<boolean> {
    const held = this.table.get({ pk: `LEDGER#${executionId}`, sk: nodeId });
    // #messageId = :messageId AND attribute_not_exists(#outcome), in one synchronous step.
    if (!held || held.messageId !== messageId || Object.hasOwn(held, outcomeAttribute(key))) return false;
    const time = outcomeTimeAttribute(key);
    const first = time && typeof held[time] !== 'string' ? { [time]: outcome.at } : {};
    this.table.put({ ...held, [outcomeAttribute(key)]: { ...outcome }, ...first });
    return true;
  }

  async settle(executionId: string, nodeId: string, outcome: DeliverySettlement): Promise<boolean> {
    const held = this.table.get({ pk: `LEDGER#${executionId}`, sk: nodeId });
    // #status = :prepared, as DynamoLedger.settle.
    if (!held || held.status !== 'prepared') return false;
    const detail = outcome.status === 'sent' ? { messageId: outcome.messageId } : { error: outcome.error };
    this.table.put({ ...held, status: outcome.status, ...detail });
    return true;
  }

  async prepare(entry: LedgerEntry): Promise<boolean> {
    const key = { pk: `LEDGER#${entry.executionId}`, sk: entry.nodeId };
    const held = this.table.get(key);
    // Never over `sent` or `unknown` (it may have gone out): attribute_not_exists(pk) OR #status IN (:prepared, :failed).
    if (held && held.status !== 'prepared' && held.status !== 'failed') return false;
    this.table.put({ ...key, ...entry, expiresAt: Math.floor(Date.parse(entry.preparedAt) / 1000) + this.retentionDays * DAY });
    return true;
  }
}

export class MemoryProfileRecords implements ProfileRecords {
  constructor(private readonly table: MemoryTable) {}

  async list(profileId: string): Promise<ProfileRecord[]> {
    const records: ProfileRecord[] = [];
    for (const key of this.table.profileKeys(profileId)) {
      const item = this.table.get(key);
      if (!item) continue;
      const executionId = (item.executionArn ?? item.executionId) as string | undefined;
      records.push({ ...key, kind: recordKind(key.pk), executionId, item });
    }
    return records;
  }

  async remove(records: readonly Pick<ProfileRecord, 'pk' | 'sk'>[]): Promise<void> {
    for (const { pk, sk } of records) this.table.delete({ pk, sk });
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

const mentionKey = (key: string, mention: string) => `REJECTED-MENTION#${keyedHash(key, 'mention', mention)}`;

/** Invalid events and their identity markers, as DynamoRejectedEventStore keeps them (30 days, newest first). */
export class MemoryRejectedEventStore implements RejectedEventStore, RejectedEventEraser {
  constructor(
    private readonly table: MemoryTable,
    private readonly privacyKey: PrivacyKey = localPrivacyKey,
  ) {}

  async put(rejected: RejectedEvent): Promise<void> {
    const id = createHash('sha256').update(JSON.stringify(rejected.raw)).digest('hex').slice(0, 16);
    const sk = `${rejected.receivedAt}#${id}`;
    const expiresAt = Math.floor(Date.parse(rejected.receivedAt) / 1000) + 30 * DAY;
    const key = await this.privacyKey();
    for (const mention of identityMentions(rejected.raw)) this.table.put({ pk: mentionKey(key, mention), sk, expiresAt });
    this.table.put({ pk: 'REJECTED', sk, ...rejected, raw: JSON.stringify(rejected.raw), expiresAt });
  }

  async eraseMentioning(mentions: readonly string[]): Promise<number> {
    const key = await this.privacyKey();
    const erased = new Set<string>();
    for (const mention of mentions) {
      const pk = mentionKey(key, mention);
      for (const marker of this.table.query(pk)) {
        const sk = marker.sk as string;
        if (!erased.has(sk)) this.table.delete({ pk: 'REJECTED', sk });
        erased.add(sk);
        this.table.delete({ pk, sk });
      }
    }
    return erased.size;
  }

  async list(limit: number): Promise<RejectedEvent[]> {
    // DynamoDB refuses a Query Limit below 1.
    if (!(Number.isInteger(limit) && limit >= 1)) {
      throw new MemoryValidationError(
        `1 validation error detected: Value '${limit}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1`,
      );
    }
    return this.table.query('REJECTED', { descending: true, limit }).map((i) => ({
      receivedAt: i.receivedAt as string,
      origin: i.origin as string,
      errors: i.errors as RejectedEvent['errors'],
      raw: JSON.parse(i.raw as string),
    }));
  }
}
