import { z } from 'zod';
import { ConsentKey, ConsentStatus, formatIssues } from '../events/business-event';
import { NotFoundError, ValidationError } from '../runtime/errors';
import { ownRecord } from '../shared/records';
import type { Clock, ConsentRecord, ProfileStore } from '../runtime/ports';
import type { ConsentStore, SetConsentOutcome } from './ports';
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

/** The consent held for a profile; NotFoundError for an unknown profile. */
export async function readConsent(deps: Pick<ConsentDeps, 'profiles'>, profileId: string): Promise<{ profileId: string; consent: Record<string, ConsentRecord> }> {
  const profile = await deps.profiles.get(profileId);
  if (!profile) throw new NotFoundError(`no profile "${profileId}"`);
  return { profileId: profile.id, consent: profile.consent ?? {} };
}

/** Records consent decisions taken now (through the API); a decision held with a later time stays. */
export async function updateConsent(deps: ConsentDeps, profileId: string, body: unknown, source: string) {
  const parsed = ConsentChanges.safeParse(body ?? {});
  if (!parsed.success) throw new ValidationError('the consent changes are not valid', formatIssues(parsed.error.issues));
  const { profileId: resolved } = await readConsent(deps, profileId);
  const at = deps.clock.now().toISOString();
  for (const [key, status] of Object.entries(parsed.data)) {
    if ((await deps.consent.setConsent(resolved, key, { status, at, source })) === 'not-found') throw new NotFoundError(`no profile "${profileId}"`);
  }
  return readConsent(deps, resolved);
}

export interface UnsubscribeOutcome {
  profileId: string;
  scope: UnsubscribeScope;
  outcome: SetConsentOutcome;
}

/** One-click unsubscribe: a valid token opts its profile out of its scope; an invalid one changes nothing (UnsubscribeTokenError). */
export async function unsubscribe(deps: Omit<ConsentDeps, 'profiles'> & { getSecret(): Promise<string> }, token: string): Promise<UnsubscribeOutcome> {
  const now = deps.clock.now();
  const claims = verifyUnsubscribeToken(token, await deps.getSecret(), now);
  const outcome = await deps.consent.setConsent(claims.profileId, claims.scope, { status: 'opted-out', at: now.toISOString(), source: 'unsubscribe-link' });
  return { profileId: claims.profileId, scope: claims.scope, outcome };
}
