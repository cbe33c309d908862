import * as z from 'zod';
import { ConsentKey, ConsentStatus, formatIssues } from '../events/business-event';
import { NotFoundError, ValidationError } from '../runtime/errors';
import { ownRecord } from '../shared/own-record';
import type { ConsentChange, ConsentVia } from '../profiles/model';
import type { Clock, ConsentRecord, ProfileStore } from '../runtime/ports';
import type { ConsentStore } from './ports';
import { verifyUnsubscribeToken, type UnsubscribeScope } from './token';

/** `PUT /profiles/{id}/consent` body: `{ "email": "opted-out", "list:news": "opted-in" }`. */
export const ConsentChanges = ownRecord(ConsentKey, ConsentStatus)
  .refine((changes) => Object.keys(changes).length > 0, 'name at least one channel (email, sms, push) or list:<id>')
  .refine((changes) => Object.keys(changes).length <= 50, 'at most 50 changes at once');
export type ConsentChanges = z.infer<typeof ConsentChanges>;

export interface ConsentDeps {
  profiles: Pick<ProfileStore, 'get'>;
  consent: ConsentStore;
  clock: Clock;
}

/** A consent decision as the API shows it (the history is listed apart). */
export interface ConsentView {
  status: ConsentStatus;
  at: string;
  source: string;
  via: ConsentVia;
}

const view = (record: ConsentRecord): ConsentView => ({ status: record.status, at: record.at, source: record.source, via: record.via ?? 'event' });

/** The consent held for a profile, with each key's last changes (newest first); NotFoundError for an unknown profile. */
export async function readConsent(
  deps: Pick<ConsentDeps, 'profiles'>,
  profileId: string,
): Promise<{ profileId: string; consent: Record<string, ConsentView>; history: Record<string, ConsentChange[]> }> {
  const profile = await deps.profiles.get(profileId);
  if (!profile) throw new NotFoundError(`no profile "${profileId}"`);
  const held = Object.entries(profile.consent ?? {});
  return {
    profileId: profile.id,
    consent: Object.fromEntries(held.map(([key, record]) => [key, view(record)])),
    history: Object.fromEntries(held.map(([key, record]) => [key, record.history ?? []])),
  };
}

/** What became of one requested change: the status in force afterwards, and why when it is not the one requested. */
export interface ConsentChangeOutcome {
  requested: ConsentStatus;
  status: ConsentStatus;
  applied: boolean;
  reason?: string;
}

/**
 * Records consent decisions taken now (through the API, `via: api`). Each answers what is true afterwards: a change
 * outranked by the decision held (a later explicit one, or a later opt-out within the clock-skew bound) is
 * `applied: false` with the reason, never reported as done.
 */
export async function updateConsent(deps: ConsentDeps, profileId: string, body: unknown, source: string) {
  const parsed = ConsentChanges.safeParse(body ?? {});
  if (!parsed.success) throw new ValidationError('the consent changes are not valid', formatIssues(parsed.error.issues));
  const { profileId: resolved } = await readConsent(deps, profileId);
  const at = deps.clock.now().toISOString();
  const changes: Record<string, ConsentChangeOutcome> = {};
  for (const [key, status] of Object.entries(parsed.data)) {
    const result = await deps.consent.setConsent(resolved, key, { status, at, source, via: 'api' });
    if (result.outcome === 'not-found') throw new NotFoundError(`no profile "${profileId}"`);
    changes[key] = { requested: status, status: result.held.status, applied: result.outcome === 'updated', ...(result.outcome === 'unchanged' ? { reason: result.reason } : {}) };
  }
  return { ...(await readConsent(deps, resolved)), changes };
}

/** `applied`: the opt-out is the decision in force now; else `status` is what holds and `reason` why (or no profile). */
export type UnsubscribeOutcome =
  | { profileId: string; scope: UnsubscribeScope; applied: true; status: 'opted-out' }
  | { profileId: string; scope: UnsubscribeScope; applied: false; status: ConsentStatus | 'no-profile'; reason: string };

/** One-click unsubscribe: a valid token opts its profile out of its scope; an invalid one changes nothing (UnsubscribeTokenError). */
export async function unsubscribe(deps: Omit<ConsentDeps, 'profiles'> & { getSecret(): Promise<string> }, token: string): Promise<UnsubscribeOutcome> {
  const now = deps.clock.now();
  const claims = verifyUnsubscribeToken(token, await deps.getSecret(), now);
  const result = await deps.consent.setConsent(claims.profileId, claims.scope, { status: 'opted-out', at: now.toISOString(), source: 'unsubscribe-link', via: 'unsubscribe-link' });
  const base = { profileId: claims.profileId, scope: claims.scope };
  if (result.outcome === 'not-found') return { ...base, applied: false, status: 'no-profile', reason: 'no profile holds this link any more (erased): nothing is sent to it' };
  if (result.outcome === 'updated' || result.held.status === 'opted-out') return { ...base, applied: true, status: 'opted-out' };
  return { ...base, applied: false, status: result.held.status, reason: result.reason };
}
