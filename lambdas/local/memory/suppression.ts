import type { SuppressionReason } from '../../core/consent/policy';
import { normalizeAddress, type Suppression, type SuppressionList } from '../../core/consent/ports';
import { keyedHash, localPrivacyKey, type PrivacyKey } from '../../core/privacy/keys';
import type { MemoryTable } from './table';

/** The suppression list as DynamoSuppressionList keeps it: `SUPPRESSED#<keyed hash>` items, no address, no profile id. */
export class MemorySuppressionList implements SuppressionList {
  constructor(
    private readonly table: MemoryTable,
    private readonly privacyKey: PrivacyKey = localPrivacyKey,
  ) {}

  async isSuppressed(address: string): Promise<Suppression | undefined> {
    const item = this.table.get(await this.key(address));
    if (!item) return undefined;
    return { address: normalizeAddress(address), reason: item.reason as SuppressionReason, at: item.at as string, source: item.source as string };
  }

  async areSuppressed(addresses: readonly string[]): Promise<(Suppression | undefined)[]> {
    return Promise.all(addresses.map((address) => this.isSuppressed(address)));
  }

  /** Idempotent; a complaint is never replaced by a later bounce. */
  async suppress(address: string, reason: SuppressionReason, at: string, source: string): Promise<void> {
    const key = await this.key(address);
    const held = this.table.get(key);
    // attribute_not_exists(pk) OR reason <> :complaint OR :reason = :complaint
    if (held && held.reason === 'complaint' && reason !== 'complaint') return;
    this.table.put({ ...held, ...key, reason, at, source, firstAt: held?.firstAt ?? at });
  }

  private async key(address: string) {
    return { pk: `SUPPRESSED#${keyedHash(await this.privacyKey(), 'suppressed', normalizeAddress(address))}`, sk: 'SUPPRESSED' };
  }
}
