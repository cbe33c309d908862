import type { ConsentKey } from '../events/business-event';
import type { ConsentRecord } from '../runtime/ports';
import type { SuppressionReason } from './policy';

/** An address that receives no more email: it bounced permanently or its owner complained. */
export interface Suppression {
  /** The bare address, lowercased, trimmed (see `normalizeAddress`); the list itself keeps only a keyed hash of it. */
  address: string;
  reason: SuppressionReason;
  at: string;
  /** What reported it, e.g. `ses:<message id>`. */
  source: string;
}

/** The suppression list (email addresses). */
export interface SuppressionList {
  /** The suppression of this address (compared case-insensitively), or undefined when email may go to it. */
  isSuppressed(address: string): Promise<Suppression | undefined>;
  suppress(address: string, reason: SuppressionReason, at: string, source: string): Promise<void>;
}

/** `updated`: the record was stored; `unchanged`: a record at least as recent was there; `not-found`: no such profile. */
export type SetConsentOutcome = 'updated' | 'unchanged' | 'not-found';

/**
 * Writes one consent decision into a profile, only if it is newer than the one held for that key (the profile
 * store's merge rule: later `at` wins; at the same time, opted-out wins). Follows merges to the surviving profile.
 */
export interface ConsentStore {
  setConsent(profileId: string, key: ConsentKey, record: ConsentRecord): Promise<SetConsentOutcome>;
}

/**
 * The bare address, lowercased and trimmed: `"Ann" <Ann@Example.com>` → `ann@example.com` (a display name must not let
 * a suppressed address through; the local part is case-sensitive in theory, never in practice).
 */
export function normalizeAddress(address: string): string {
  const bracketed = /<([^<>]*)>\s*$/.exec(address);
  return (bracketed ? bracketed[1] : address).trim().toLowerCase();
}
