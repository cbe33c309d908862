import type { ConsentKey, ConsentStatus } from '../events/business-event';
import type { ExplicitConsentVia } from '../profiles/consent-state';
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
  /** `isSuppressed` of many addresses in a few batched requests, results in their order (campaign batches). */
  areSuppressed?(addresses: readonly string[]): Promise<(Suppression | undefined)[]>;
  suppress(address: string, reason: SuppressionReason, at: string, source: string): Promise<void>;
}

/** A decision the person took directly, dated by the platform's clock on receipt. */
export interface ExplicitConsent {
  status: ConsentStatus;
  at: string;
  /** Who: `api`, `unsubscribe-link`, … */
  source: string;
  via: ExplicitConsentVia;
}

/**
 * `updated`: the decision is now the one in force; `unchanged`: the held decision outranks it (`reason` says why;
 * it is still in the key's history); `not-found`: no such profile. `held` is the decision in force afterwards.
 */
export type SetConsentResult =
  | { outcome: 'updated'; profileId: string; held: ConsentRecord }
  | { outcome: 'unchanged'; profileId: string; held: ConsentRecord; reason: string }
  | { outcome: 'not-found' };
export type SetConsentOutcome = SetConsentResult['outcome'];

/**
 * Records one explicit consent decision in a profile under the profile store's consent rule (lambdas/core/profiles/
 * consent-state.ts: an explicit decision outranks event-borne opt-ins; among firm decisions the later wins; a tie
 * opts out), with the key's history. Follows merges to the surviving profile.
 */
export interface ConsentStore {
  setConsent(profileId: string, key: ConsentKey, decision: ExplicitConsent): Promise<SetConsentResult>;
}

/**
 * The bare address, lowercased and trimmed: `"Ann" <Ann@Example.com>` → `ann@example.com` (a display name must not let
 * a suppressed address through; the local part is case-sensitive in theory, never in practice).
 */
export function normalizeAddress(address: string): string {
  const bracketed = /<([^<>]*)>\s*$/.exec(address);
  return (bracketed ? bracketed[1] : address).trim().toLowerCase();
}
