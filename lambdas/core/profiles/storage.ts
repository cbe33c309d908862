import type { BusinessEvent } from '../events/business-event';
import type { ProfilePolicy, ProfileState, RecentEvent } from './model';

/**
 * What the identity graph needs from storage: single-item reads and conditional single-item writes, nothing
 * transactional (dynalite has no transactions, and none is needed). DynamoDB and the in-memory store implement it;
 * `ingestEvent` is the one algorithm over it.
 *
 * Items: an identity (→ profile id), a profile (its state and version), and per profile one record per event id
 * (the dedupe record and the recent-events window entry, kept 30 days).
 */
/** An event record: the window entry, and `applied` once the event is known to be applied to the profile. */
export type EventRecord = RecentEvent & { applied?: boolean };

export interface ProfileStorage {
  /** The profile id an identity points at (possibly an absorbed profile: follow `mergedInto`). */
  readIdentity(namespace: string, value: string): Promise<string | undefined>;
  /** Links an identity to a profile unless it is linked already; returns the profile it points at afterwards. */
  claimIdentity(namespace: string, value: string, profileId: string): Promise<string>;
  /** Re-points an identity, only if it still points at `from`. */
  repointIdentity(namespace: string, value: string, from: string, to: string): Promise<void>;

  readProfile(profileId: string): Promise<ProfileState | undefined>;
  /** `readProfile` of many ids in a few batched requests, in their order (optional: read one by one without it). */
  readProfiles?(profileIds: readonly string[]): Promise<(ProfileState | undefined)[]>;
  /** Writes a new profile; false when the id exists. */
  createProfile(state: ProfileState): Promise<boolean>;
  /** Replaces an active profile, only if it is still active and at `expectedVersion`; false otherwise. */
  replaceProfile(state: ProfileState, expectedVersion: number): Promise<boolean>;
  /**
   * Applies an event in one conditional write without reading the profile, only when `canApplyIncrementally` holds
   * for the stored profile; the profile afterwards, or undefined when the condition does not hold (nothing written).
   */
  applyIncrement(profileId: string, event: BusinessEvent, now: Date, policy: ProfilePolicy): Promise<ProfileState | undefined>;
  /**
   * Freezes an active profile for absorption into `into` (status `merging`, version bumped): no write that expects it
   * active succeeds afterwards. Returns the profile after the call: frozen by this call, or as another writer left it.
   */
  freeze(profileId: string, into: string): Promise<ProfileState | undefined>;
  /** Marks a frozen profile folded (status `merged`, pointing at the profile holding its data now). */
  markMerged(profileId: string, into: string, at: Date): Promise<void>;

  /** Records an event on a profile unless recorded there already (false then). Expires `windowDays` after `receivedAt`. */
  recordEvent(profileId: string, entry: EventRecord): Promise<boolean>;
  /** Marks an existing record applied; false when there is no record (nothing written). */
  markApplied(profileId: string, eventId: string): Promise<boolean>;
  readEvent(profileId: string, eventId: string): Promise<EventRecord | undefined>;
  /** Every unexpired event record of a profile, in no particular order. */
  listEvents(profileId: string): Promise<EventRecord[]>;

  /** Erasure: deletes an identity only if it points at one of `profileIds` (never another person's). */
  deleteIdentity(namespace: string, value: string, profileIds: readonly string[]): Promise<boolean>;
  /** Erasure: deletes a profile item and every event record under it (expired ones too); returns how many items. */
  deleteProfileItems(profileId: string): Promise<number>;
}
