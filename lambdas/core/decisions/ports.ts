import type { Caps, Offer, Placement } from './model';

/** Ports of decisioning. Adapters: DynamoDB (and in-memory in unit tests). */

/** A stored catalog entry: its definition and where it came from; `version` increases with every write. */
export interface CatalogRecord<T> {
  definition: T;
  /** `file`: deployed from `offers/` or `placements/` (the API refuses to change it); `api`: created through the API. */
  origin: 'file' | 'api';
  version: number;
  updatedAt: string;
}

export interface CatalogStore<T> {
  list(): Promise<CatalogRecord<T>[]>;
  get(id: string): Promise<CatalogRecord<T> | undefined>;
  /** As SegmentStore.put: `expectedVersion` undefined → only if absent; a number → only at that version; `force` → always. */
  put(record: CatalogRecord<T>, condition: { expectedVersion?: number; force?: boolean }): Promise<boolean>;
  delete(id: string): Promise<boolean>;
}
export type OfferStore = CatalogStore<Offer>;
export type PlacementStore = CatalogStore<Placement>;

export type CapOutcome = { ok: true } | { ok: false; cap: 'total' | 'perProfile' };

/**
 * Proposal counters. `reserve` counts one proposal of an offer to a profile, atomically: it never lets the total or the
 * per-profile count within the sliding period exceed the caps, however many decisions race (conditional single-item
 * writes; no transactions).
 */
export interface CapStore {
  reserve(offerId: string, profileId: string, caps: Caps, now: Date): Promise<CapOutcome>;
  /** Proposals so far: the total, and the profile's within `periodSeconds` before `now` (explanations, tests). */
  usage(offerId: string, profileId: string, periodSeconds: number, now: Date): Promise<{ total: number; profile: number }>;
}

/** Moves a merged profile's per-profile cap history to the survivor (a port of its own: the router needs only this). */
export interface CapCarryOver {
  /**
   * Adds the proposals `fromProfileId` received to `toProfileId`'s, offer by offer, so a merge does not restart its caps.
   * Idempotent (a set of proposal times); returns the cap items changed.
   */
  carryOver(fromProfileId: string, toProfileId: string): Promise<number>;
}

/** Why an offer was or was not proposed: one line per considered offer. */
export interface OfferExplanation {
  offerId: string;
  eligible: boolean;
  /** Why not eligible: `not yet valid`, `expired`, `eligibility rule`, `not in segment <id>`, `missing content …`. */
  reason?: string;
  /** The ranking score (the formula's value, or the priority); null when the formula had no value. */
  score: number | null;
  /** A cap stopped it (which one). */
  capped?: 'total' | 'perProfile';
  chosen: boolean;
}

export interface ChosenOffer {
  offerId: string;
  name: string;
  placement: string;
  content: Record<string, string | number | boolean>;
  score: number | null;
  tags: string[];
  fallback: boolean;
}

export interface PlacementDecision {
  offers: ChosenOffer[];
  /** Nothing else qualified: these are the placement's fallback offers. */
  fallback: boolean;
  explanation: OfferExplanation[];
}

export interface DecisionRecord {
  id: string;
  profileId: string;
  at: string;
  placements: Record<string, PlacementDecision>;
  context: Record<string, unknown>;
  /** Who asked: `api`, or `journey:<journey id>:<node id>`. */
  origin: string;
}

/**
 * An idempotency key of one profile, bound to one request by `fingerprint` (a digest of what was asked): the same key
 * with another request is a conflict, and another profile's key is another key.
 */
export interface DecisionKey {
  profileId: string;
  key: string;
  fingerprint: string;
}

/** A key is `pending` while its first request decides (until `leaseUntil`), then `done` with the decision. */
export type DecisionKeyState =
  | { status: 'pending'; fingerprint: string; leaseUntil: string }
  | { status: 'done'; fingerprint: string; record: DecisionRecord };

export interface DecisionLog {
  /**
   * Claims a key for one request, atomically (a conditional write): true for exactly one of any number of racing
   * claims. With `expiredLease`, takes over a pending claim whose lease (that value) ran out; otherwise only a free key.
   */
  claim(key: DecisionKey, leaseUntil: Date, expiredLease?: string): Promise<boolean>;
  /** Gives a pending claim back (the decision failed), so a retry need not wait for the lease. */
  release(key: DecisionKey, leaseUntil: Date): Promise<void>;
  /** The key's state, if claimed (and not expired). */
  findByKey(profileId: string, key: string): Promise<DecisionKeyState | undefined>;
  /** Appends the decision; with `key` (claimed before), also marks the key done with this decision. Idempotent. */
  append(record: DecisionRecord, key?: DecisionKey): Promise<void>;
  /** Newest first; `cursor` continues a page (one it did not return: `InvalidCursorError`). */
  list(profileId: string, page: { limit: number; cursor?: string }): Promise<{ decisions: DecisionRecord[]; cursor?: string }>;
}
