import type { BusinessEvent } from '../events/business-event';
import { applyEvent, canApplyIncrementally } from './merge-policy';
import type { ProfilePolicy, ProfileState } from './model';
import type { EventRecord, ProfileStorage } from './storage';

const DAY_MS = 86_400_000;

/**
 * ProfileStorage in memory, with DynamoDB's semantics: every method is one atomic single-item read or conditional
 * write, and event records expire `windowDays` after receipt. Stored values are deep-frozen instead of copied: no
 * caller can change what is stored except through a method (an attempt throws), at a fraction of a copy's cost.
 * For property tests (wrap it to interleave or fail calls) and the bench.
 */
export class MemoryProfileStorage implements ProfileStorage {
  readonly identities = new Map<string, string>();
  readonly profiles = new Map<string, ProfileState>();
  readonly events = new Map<string, Map<string, EventRecord>>();

  constructor(
    private readonly now: () => Date = () => new Date(),
    private readonly windowDays = 30,
  ) {}

  async deleteIdentity(namespace: string, value: string, profileIds: readonly string[]): Promise<boolean> {
    const key = identityKey(namespace, value);
    const owner = this.identities.get(key);
    if (owner === undefined || !profileIds.includes(owner)) return false;
    return this.identities.delete(key);
  }

  async deleteProfileItems(profileId: string): Promise<number> {
    const events = this.events.get(profileId)?.size ?? 0;
    this.events.delete(profileId);
    return events + (this.profiles.delete(profileId) ? 1 : 0);
  }

  async readIdentity(namespace: string, value: string): Promise<string | undefined> {
    return this.identities.get(identityKey(namespace, value));
  }

  async claimIdentity(namespace: string, value: string, profileId: string): Promise<string> {
    const key = identityKey(namespace, value);
    if (!this.identities.has(key)) this.identities.set(key, profileId);
    return this.identities.get(key)!;
  }

  async repointIdentity(namespace: string, value: string, from: string, to: string): Promise<void> {
    const key = identityKey(namespace, value);
    if (this.identities.get(key) === from) this.identities.set(key, to);
  }

  async readProfile(profileId: string): Promise<ProfileState | undefined> {
    return this.profiles.get(profileId);
  }

  async createProfile(state: ProfileState): Promise<boolean> {
    if (this.profiles.has(state.id)) return false;
    this.profiles.set(state.id, deepFreeze(state));
    return true;
  }

  async replaceProfile(state: ProfileState, expectedVersion: number): Promise<boolean> {
    const held = this.profiles.get(state.id);
    if (!held || held.status !== 'active' || held.version !== expectedVersion) return false;
    this.profiles.set(state.id, deepFreeze(state));
    return true;
  }

  async applyIncrement(profileId: string, event: BusinessEvent, now: Date, policy: ProfilePolicy): Promise<ProfileState | undefined> {
    const held = this.profiles.get(profileId);
    if (!canApplyIncrementally(held, event, now, policy)) return undefined;
    const next = deepFreeze(applyEvent(held, event, now, policy).state);
    this.profiles.set(profileId, next);
    return next;
  }

  async freeze(profileId: string, into: string): Promise<ProfileState | undefined> {
    const held = this.profiles.get(profileId);
    if (held?.status === 'active') this.profiles.set(profileId, deepFreeze({ ...held, status: 'merging', mergedInto: into, version: held.version + 1 }));
    return this.readProfile(profileId);
  }

  async markMerged(profileId: string, into: string): Promise<void> {
    const held = this.profiles.get(profileId);
    if (held?.status === 'merging') this.profiles.set(profileId, deepFreeze({ ...held, status: 'merged', mergedInto: into }));
  }

  async recordEvent(profileId: string, entry: EventRecord): Promise<boolean> {
    const events = this.events.get(profileId) ?? new Map<string, EventRecord>();
    this.events.set(profileId, events);
    const held = events.get(entry.id);
    if (held && !this.expired(held)) return false;
    events.set(entry.id, deepFreeze(entry));
    return true;
  }

  async markApplied(profileId: string, eventId: string): Promise<boolean> {
    const held = this.events.get(profileId)?.get(eventId);
    if (!held) return false;
    if (!held.applied) this.events.get(profileId)!.set(eventId, deepFreeze({ ...held, applied: true }));
    return true;
  }

  async readEvent(profileId: string, eventId: string): Promise<EventRecord | undefined> {
    const held = this.events.get(profileId)?.get(eventId);
    return held && !this.expired(held) ? held : undefined;
  }

  async listEvents(profileId: string): Promise<EventRecord[]> {
    return [...(this.events.get(profileId)?.values() ?? [])].filter((e) => !this.expired(e));
  }

  /** As the DynamoDB record's TTL attribute: whole epoch seconds, expired from that second on. */
  private expired(entry: EventRecord): boolean {
    const expiresAt = Math.floor(Date.parse(entry.receivedAt) / 1000) + (this.windowDays * DAY_MS) / 1000;
    return expiresAt <= Math.floor(this.now().getTime() / 1000);
  }
}

/** Freezes a value and everything it holds (parts already frozen, shared with earlier states, are skipped). */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

function identityKey(namespace: string, value: string): string {
  return `${namespace}\u0000${value}`;
}
