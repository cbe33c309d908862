import type { DecisionKey, DecisionKeyState, DecisionLog, DecisionRecord } from '../../../lambdas/core/decisions/ports';

/** An in-memory decision log with the key semantics of the DynamoDB one (claims are atomic: one of racing claims wins). */
export class MemoryDecisionLog implements DecisionLog {
  readonly records: DecisionRecord[] = [];
  readonly keys = new Map<string, DecisionKeyState>();

  private static id(profileId: string, key: string) {
    return JSON.stringify([profileId, key]);
  }

  async claim(key: DecisionKey, leaseUntil: Date, expiredLease?: string): Promise<boolean> {
    const id = MemoryDecisionLog.id(key.profileId, key.key);
    const held = this.keys.get(id);
    const free = expiredLease === undefined ? held === undefined : held?.status === 'pending' && held.leaseUntil === expiredLease;
    if (!free) return false;
    this.keys.set(id, { status: 'pending', fingerprint: key.fingerprint, leaseUntil: leaseUntil.toISOString() });
    return true;
  }

  async release(key: DecisionKey, leaseUntil: Date): Promise<void> {
    const id = MemoryDecisionLog.id(key.profileId, key.key);
    const held = this.keys.get(id);
    if (held?.status === 'pending' && held.leaseUntil === leaseUntil.toISOString()) this.keys.delete(id);
  }

  async findByKey(profileId: string, key: string): Promise<DecisionKeyState | undefined> {
    return structuredClone(this.keys.get(MemoryDecisionLog.id(profileId, key)));
  }

  async append(record: DecisionRecord, key?: DecisionKey): Promise<void> {
    this.records.push(structuredClone(record));
    if (key) this.keys.set(MemoryDecisionLog.id(key.profileId, key.key), { status: 'done', fingerprint: key.fingerprint, record: structuredClone(record) });
  }

  async list(profileId: string, _page?: { limit: number; cursor?: string }): Promise<{ decisions: DecisionRecord[]; cursor?: string }> {
    return { decisions: this.records.filter((r) => r.profileId === profileId).reverse() };
  }
}
