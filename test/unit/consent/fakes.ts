import type { SuppressionReason } from '../../../lambdas/core/consent/policy';
import { normalizeAddress, type ConsentStore, type SetConsentOutcome, type Suppression, type SuppressionList } from '../../../lambdas/core/consent/ports';
import type { Clock, ConsentRecord, Ledger, LedgerEntry, Profile } from '../../../lambdas/core/runtime/ports';

export const clockAt = (iso: string): Clock & { set(iso: string): void } => {
  let now = new Date(iso);
  return { now: () => now, set: (next: string) => (now = new Date(next)) };
};

/** Profiles with consent, and the ConsentStore over them with the adapter's rule: newer `at` wins, opted-out on a tie. */
export class MemoryConsentProfiles implements ConsentStore {
  readonly profiles = new Map<string, Profile>();
  readonly writes: { profileId: string; key: string; record: ConsentRecord }[] = [];

  add(id: string, over: Partial<Profile> = {}): Profile {
    const profile: Profile = { id, attributes: {}, identities: { email: `${id}@example.com` }, consent: {}, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', ...over };
    this.profiles.set(id, profile);
    return profile;
  }

  async get(profileId: string): Promise<Profile | undefined> {
    const p = this.profiles.get(profileId);
    return p && structuredClone(p);
  }

  async setConsent(profileId: string, key: string, record: ConsentRecord): Promise<SetConsentOutcome> {
    this.writes.push({ profileId, key, record });
    const profile = this.profiles.get(profileId);
    if (!profile) return 'not-found';
    const held = profile.consent?.[key];
    const newer = !held || held.at < record.at || (held.at === record.at && record.status === 'opted-out' && held.status === 'opted-in');
    if (!newer) return 'unchanged';
    profile.consent = { ...profile.consent, [key]: record };
    return 'updated';
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
