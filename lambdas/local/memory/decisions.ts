import { TableKeys } from '../../core/config/env-keys';
import type { Caps } from '../../core/decisions/model';
import type {
  CapCarryOver,
  CapOutcome,
  CapStore,
  DecisionKey,
  DecisionKeyState,
  DecisionLog,
  DecisionRecord,
} from '../../core/decisions/ports';
import { InvalidCursorError } from '../../core/runtime/errors';
import type { Clock } from '../../core/runtime/ports';
import { parseDuration } from '../../core/shared/duration';
import type { MemoryTable } from './table';

/**
 * Decisioning's runtime-table items (lambdas/adapters/dynamodb-decisions.ts) in memory: the same keys and attributes,
 * and the same outcomes. Each DynamoDB conditional write is one synchronous step here, so no race is ever lost and
 * the DynamoDB adapter's retries and backoff have nothing to do.
 */

const DAY_SECONDS = 86_400;
const encodeCursor = (value: string) => Buffer.from(value, 'utf8').toString('base64url');

const totalKey = (offerId: string) => ({ pk: `CAP#${offerId}`, sk: 'TOTAL' });
const profileCapKey = (offerId: string, profileId: string) => ({ pk: `CAP#${offerId}#${profileId}`, sk: 'PROFILE' });

interface Slots {
  times: number[];
  expiresAt: number;
}

/** Proposal counters: the total (no profile), and per profile the proposal times within the sliding period. */
export class MemoryCapStore implements CapStore, CapCarryOver {
  constructor(private readonly table: MemoryTable) {}

  async reserve(offerId: string, profileId: string, caps: Caps, now: Date): Promise<CapOutcome> {
    const periodMs = caps.perProfile ? parseDuration(caps.perProfile.period) * 1000 : undefined;
    const at = now.getTime();
    // As the DynamoDB store: the profile's slot first (dropping times older than the period), then the total; a
    // refused total gives the slot back.
    if (caps.perProfile && periodMs !== undefined) {
      const live = this.slots(offerId, profileId).times.filter((t) => t > at - periodMs);
      if (live.length >= caps.perProfile.count) return { ok: false, cap: 'perProfile' };
      this.writeSlots(offerId, profileId, [...live, at], periodMs);
    }
    if (caps.total === undefined || this.countTotal(offerId, caps.total)) return { ok: true };
    if (periodMs !== undefined) {
      const times = this.slots(offerId, profileId).times;
      const index = times.indexOf(at);
      if (index >= 0) this.writeSlots(offerId, profileId, times.filter((_, i) => i !== index), periodMs);
    }
    return { ok: false, cap: 'total' };
  }

  async usage(offerId: string, profileId: string, periodSeconds: number, now: Date): Promise<{ total: number; profile: number }> {
    const since = now.getTime() - periodSeconds * 1000;
    const total = this.table.get(totalKey(offerId))?.proposals;
    return { total: Number(total ?? 0), profile: this.slots(offerId, profileId).times.filter((t) => t > since).length };
  }

  async carryOver(fromProfileId: string, toProfileId: string): Promise<number> {
    let changed = 0;
    for (const offerId of this.offersCappedFor(fromProfileId)) {
      const from = this.slots(offerId, fromProfileId);
      const to = this.slots(offerId, toProfileId);
      const times = [...new Set([...to.times, ...from.times])].sort((a, b) => a - b);
      if (times.length === to.times.length) continue;
      this.putSlots(offerId, toProfileId, times, Math.max(from.expiresAt, to.expiresAt));
      changed++;
    }
    return changed;
  }

  private offersCappedFor(profileId: string): string[] {
    const suffix = `#${profileId}`;
    return this.table
      .profileKeys(profileId, 'CAP#')
      .filter((k) => k.sk === 'PROFILE' && k.pk.endsWith(suffix))
      .map((k) => k.pk.slice('CAP#'.length, -suffix.length));
  }

  /** ADD proposals :one, only while attribute_not_exists(proposals) OR proposals < :max. */
  private countTotal(offerId: string, max: number): boolean {
    const held = this.table.get(totalKey(offerId));
    const proposals = held?.proposals;
    if (typeof proposals === 'number' && !(proposals < max)) return false;
    this.table.put({ ...held, ...totalKey(offerId), proposals: (typeof proposals === 'number' ? proposals : 0) + 1 });
    return true;
  }

  private slots(offerId: string, profileId: string): Slots {
    const item = this.table.get(profileCapKey(offerId, profileId));
    if (!item) return { times: [], expiresAt: 0 };
    return { times: ((item.times as unknown[] | undefined) ?? []).map(Number), expiresAt: Number(item[TableKeys.ttl] ?? 0) };
  }

  /** The times, kept until a day after the latest leaves the period. */
  private writeSlots(offerId: string, profileId: string, times: number[], periodMs: number): void {
    const latest = times.length > 0 ? Math.max(...times) : 0;
    this.putSlots(offerId, profileId, times, Math.ceil((latest + periodMs) / 1000) + DAY_SECONDS);
  }

  private putSlots(offerId: string, profileId: string, times: number[], expiresAt: number): void {
    const version = Number(this.table.get(profileCapKey(offerId, profileId))?.version ?? 0);
    this.table.put({ ...profileCapKey(offerId, profileId), times, version: version + 1, profileId, [TableKeys.ttl]: expiresAt });
  }
}

const decisionsPk = (profileId: string) => `DECISIONS#${profileId}`;
const decisionKey = (key: Pick<DecisionKey, 'profileId' | 'key'>) => ({ pk: `DECISIONKEY#${key.profileId}#${key.key}`, sk: 'KEY' });

/** Decisions per profile, newest first, and idempotency keys with leases; expiry is read from the clock. */
export class MemoryDecisionLog implements DecisionLog {
  private readonly retentionSeconds: number;

  constructor(
    private readonly table: MemoryTable,
    private readonly clock: Clock,
    options: { retentionDays?: number } = {},
  ) {
    const days = options.retentionDays ?? 90;
    if (!(days > 0)) throw new Error(`decision log: retentionDays must be positive, received ${days}`);
    this.retentionSeconds = Math.round(days * DAY_SECONDS);
  }

  async append(record: DecisionRecord, key?: DecisionKey): Promise<void> {
    const at = Date.parse(record.at);
    if (Number.isNaN(at)) {
      throw new Error(`decision ${record.id}: at must be an ISO-8601 time, received ${JSON.stringify(record.at)}`);
    }
    const expiresAt = Math.floor(at / 1000) + this.retentionSeconds;
    const text = JSON.stringify(record);
    const sk = `${new Date(at).toISOString()}#${record.id}`;
    this.table.put({ pk: decisionsPk(record.profileId), sk, record: text, profileId: record.profileId, [TableKeys.ttl]: expiresAt });
    if (key === undefined) return;
    const { fingerprint, profileId } = key;
    this.table.put({ ...decisionKey(key), status: 'done', fingerprint, record: text, profileId, [TableKeys.ttl]: expiresAt });
  }

  async claim(key: DecisionKey, leaseUntil: Date, expiredLease?: string): Promise<boolean> {
    const held = this.table.get(decisionKey(key));
    const ok =
      expiredLease === undefined
        ? // attribute_not_exists(pk) OR #ttl < :now
          held === undefined || (held[TableKeys.ttl] as number) < this.nowSeconds()
        : held?.status === 'pending' && held.leaseUntil === expiredLease;
    if (!ok) return false;
    this.table.put({
      ...decisionKey(key),
      status: 'pending',
      fingerprint: key.fingerprint,
      leaseUntil: leaseUntil.toISOString(),
      profileId: key.profileId,
      [TableKeys.ttl]: Math.floor(leaseUntil.getTime() / 1000) + this.retentionSeconds,
    });
    return true;
  }

  async release(key: DecisionKey, leaseUntil: Date): Promise<void> {
    const held = this.table.get(decisionKey(key));
    // Already done, or taken over by another request: not ours to give back.
    if (held?.status === 'pending' && held.leaseUntil === leaseUntil.toISOString()) this.table.delete(decisionKey(key));
  }

  async findByKey(profileId: string, key: string): Promise<DecisionKeyState | undefined> {
    const item = this.table.get(decisionKey({ profileId, key }));
    const ttl = item?.[TableKeys.ttl];
    if (!item || (typeof ttl === 'number' && ttl * 1000 < this.clock.now().getTime())) return undefined;
    const fingerprint = item.fingerprint as string;
    if (item.status === 'pending') return { status: 'pending', fingerprint, leaseUntil: item.leaseUntil as string };
    return { status: 'done', fingerprint, record: JSON.parse(item.record as string) as DecisionRecord };
  }

  async list(profileId: string, page: { limit: number; cursor?: string }): Promise<{ decisions: DecisionRecord[]; cursor?: string }> {
    if (!Number.isInteger(page.limit) || page.limit < 1) {
      throw new Error(`decision log: limit must be a positive integer, received ${page.limit}`);
    }
    const exclusiveStart = page.cursor === undefined ? undefined : decodeDecisionCursor(page.cursor);
    const items = this.table.query(decisionsPk(profileId), { descending: true, exclusiveStart, limit: page.limit + 1 });
    const more = items.length > page.limit;
    if (more) items.length = page.limit;
    const decisions = items.map((item) => JSON.parse(item.record as string) as DecisionRecord);
    return more ? { decisions, cursor: encodeCursor(items[items.length - 1].sk as string) } : { decisions };
  }

  private nowSeconds(): number {
    return Math.floor(this.clock.now().getTime() / 1000);
  }
}

function decodeDecisionCursor(cursor: string): string {
  const sk = Buffer.from(cursor, 'base64url').toString('utf8');
  if (sk.length === 0 || encodeCursor(sk) !== cursor) throw new InvalidCursorError('decision log', cursor);
  return sk;
}
