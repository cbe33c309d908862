import { applyConsentChange, consentNotAppliedReason } from '../profiles/consent-state';
import { ProfileContentionError } from '../profiles/ingest';
import type { ProfileStorage } from '../profiles/storage';
import type { Clock } from '../runtime/ports';
import type { ConsentStore, ExplicitConsent, SetConsentResult } from './ports';

const MAX_STEPS = 64;

/**
 * The ConsentStore over the profile storage (DynamoDB or memory): a read-modify-write of the profile conditional on
 * its version, so the decision, the rule and the bounded history are one write, and an event applied meanwhile makes
 * it read again rather than lose either. A merged (or merging) profile is followed to its survivor; a decision
 * written there before the fold lands is merged with the absorbed profile's consent by the same rule.
 */
export class ProfileConsentStore implements ConsentStore {
  constructor(
    private readonly storage: Pick<ProfileStorage, 'readProfile' | 'replaceProfile'>,
    private readonly clock: Clock,
  ) {}

  async setConsent(profileId: string, key: string, decision: ExplicitConsent): Promise<SetConsentResult> {
    let id = profileId;
    for (let step = 0; step < MAX_STEPS; step++) {
      const state = await this.storage.readProfile(id);
      if (!state) return { outcome: 'not-found' };
      if (state.status !== 'active') {
        if (state.mergedInto === undefined) return { outcome: 'not-found' };
        id = state.mergedInto;
        continue;
      }
      const now = this.clock.now().toISOString();
      const held = Object.hasOwn(state.consent, key) ? state.consent[key] : undefined;
      const change = { ...decision, at: new Date(decision.at).toISOString(), recordedAt: now };
      const { state: next, applied } = applyConsentChange(held, change);
      const consent = Object.fromEntries(Object.entries({ ...state.consent, [key]: next }).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      if (await this.storage.replaceProfile({ ...state, consent, updatedAt: now, version: state.version + 1 }, state.version)) {
        return applied ? { outcome: 'updated', profileId: id, held: next } : { outcome: 'unchanged', profileId: id, held: next, reason: consentNotAppliedReason(held!, change) };
      }
    }
    throw new ProfileContentionError(`profile ${profileId}: consent could not be written in ${MAX_STEPS} attempts`);
  }
}
