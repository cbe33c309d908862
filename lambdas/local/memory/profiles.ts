import { MemoryProfileStorage } from '../../core/profiles/memory-storage';
import type { Clock } from '../../core/runtime/ports';
import type { MemoryTable } from './table';
import { membershipKey } from './segments';

/**
 * The profiles table in memory: the identity graph's storage (MemoryProfileStorage, the same conditional semantics as
 * DynamoProfileStorage, so ingest, merge, consent, dedupe and limits run the deployed algorithm) and, as in DynamoDB,
 * the memberships item in the profile's partition, which erasing the profile's items deletes with them.
 */
export class MemoryProfileTable extends MemoryProfileStorage {
  constructor(
    clock: Clock,
    windowDays: number,
    private readonly memberships: MemoryTable,
  ) {
    super(() => clock.now(), windowDays);
  }

  override async deleteProfileItems(profileId: string): Promise<number> {
    const deleted = await super.deleteProfileItems(profileId);
    return deleted + (this.memberships.delete(membershipKey(profileId)) ? 1 : 0);
  }
}
