import type { SuppressionReason } from '../../../lambdas/core/consent/policy';
import { normalizeAddress, type ConsentStore, type ExplicitConsent, type SetConsentResult, type Suppression, type SuppressionList } from '../../../lambdas/core/consent/ports';
import { applyConsentChange, consentNotAppliedReason } from '../../../lambdas/core/profiles/consent-state';
import type { Clock, Ledger, LedgerEntry, Profile } from '../../../lambdas/core/runtime/ports';

export const clockAt = (iso: string): Clock & { set(iso: string): void } => {
  let now = new Date(iso);
  return { now: () => now, set: (next: string) => (now = new Date(next)) };
};

/** Profiles with consent, and the ConsentStore over them with the profile store's rule (consent-state.ts). */
export class MemoryConsentProfiles implements ConsentStore {
  readonly profiles = new Map<string, Profile>();
  readonly writes: { profileId: string; key: string; decision: ExplicitConsent }[] = [];

  constructor(private readonly now: () => Date = () => new Date('2026-03-01T12:00:00.000Z')) {}

  add(id: string, over: Partial<Profile> = {}): Profile {
    const profile: Profile = { id, attributes: {}, identities: { email: `${id}@example.com` }, consent: {}, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', ...over };
    this.profiles.set(id, profile);
    return profile;
  }

  async get(profileId: string): Promise<Profile | undefined> {
    const p = this.profiles.get(profileId);
    return p && structuredClone(p);
  }

  async setConsent(profileId: string, key: string, decision: ExplicitConsent): Promise<SetConsentResult> {
    this.writes.push({ profileId, key, decision });
    const profile = this.profiles.get(profileId);
    if (!profile) return { outcome: 'not-found' };
    const held = profile.consent?.[key];
    const change = { ...decision, recordedAt: this.now().toISOString() };
    const { state, applied } = applyConsentChange(held, change);
    profile.consent = { ...profile.consent, [key]: state };
    return applied ? { outcome: 'updated', profileId, held: state } : { outcome: 'unchanged', profileId, held: state, reason: consentNotAppliedReason(held!, change) };
  }
}

export class MemorySuppressionList implements SuppressionList {
  readonly entries = new Map<string, Suppression>();
  readonly lookups: string[] = [];

  async isSuppressed(address: string): Promise<Suppression | undefined> {
    this.lookups.push(address);
    return this.entries.get(normalizeAddress(address));
  }

  async suppress(address: string, reason: SuppressionReason, at: string, source: string): Promise<void> {
    this.entries.set(normalizeAddress(address), { address: normalizeAddress(address), reason, at, source });
  }
}

/** The ledger's conditional write: no entry, or one still prepared or failed, may be (over)written. */
export class MemoryLedger implements Ledger {
  readonly entries = new Map<string, LedgerEntry>();
  async get(executionId: string, nodeId: string) {
    return this.entries.get(`${executionId}/${nodeId}`);
  }
  async prepare(entry: LedgerEntry) {
    const held = this.entries.get(`${entry.executionId}/${entry.nodeId}`);
    if (held && held.status !== 'prepared' && held.status !== 'failed') return false;
    this.entries.set(`${entry.executionId}/${entry.nodeId}`, entry);
    return true;
  }
}
