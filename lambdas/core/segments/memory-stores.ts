import type { MembershipState, MembershipStore, Memberships, PendingTransitions, SegmentRecord, SegmentStore } from './ports';

/**
 * In-memory segment and membership stores with the conditional semantics of their DynamoDB adapters (ports.ts).
 * Values are copied in and out, as across a network: a caller never holds a reference into the store.
 * For unit tests, the local stack and the bench.
 */

export class InMemorySegmentStore implements SegmentStore {
  private readonly records = new Map<string, SegmentRecord>();

  constructor(initial: readonly SegmentRecord[] = []) {
    for (const record of initial) this.records.set(record.definition.id, structuredClone(record));
  }

  async list(): Promise<SegmentRecord[]> {
    return [...this.records.values()].sort((a, b) => (a.definition.id < b.definition.id ? -1 : 1)).map((r) => structuredClone(r));
  }

  async get(id: string): Promise<SegmentRecord | undefined> {
    const record = this.records.get(id);
    return record && structuredClone(record);
  }

  async put(record: SegmentRecord, condition: { expectedVersion?: number; force?: boolean }): Promise<boolean> {
    const id = record.definition.id;
    const current = this.records.get(id);
    if (!condition.force) {
      if (condition.expectedVersion === undefined ? current !== undefined : current?.version !== condition.expectedVersion) return false;
    }
    this.records.set(id, structuredClone(record));
    return true;
  }

  async delete(id: string): Promise<boolean> {
    return this.records.delete(id);
  }
}

export class InMemoryMembershipStore implements MembershipStore {
  private readonly states = new Map<string, MembershipState>();
  /** Successful writes (a test can assert that nothing was written); a count, so a long bench run holds no history. */
  writes = 0;
  /** Runs once, after the next `get` has read its value and before it returns: lets a concurrent writer slip in. */
  afterGet?: (profileId: string) => void;

  async get(profileId: string): Promise<MembershipState> {
    const copy = this.peek(profileId);
    const hook = this.afterGet;
    this.afterGet = undefined;
    hook?.(profileId);
    return copy;
  }

  async put(profileId: string, segments: Memberships, expectedVersion: number, pending?: PendingTransitions): Promise<boolean> {
    const version = this.states.get(profileId)?.version ?? 0;
    if (version !== expectedVersion) return false;
    // An absent `pending` clears what was stored (the port's outbox semantics).
    this.states.set(profileId, { segments: { ...segments }, version: version + 1, ...(pending ? { pending: structuredClone(pending) } : {}) });
    this.writes++;
    return true;
  }

  /** The stored state without going through `get` (no hook), for assertions. */
  peek(profileId: string): MembershipState {
    const state = this.states.get(profileId);
    if (!state) return { segments: {}, version: 0 };
    return { segments: { ...state.segments }, version: state.version, ...(state.pending ? { pending: structuredClone(state.pending) } : {}) };
  }
}
