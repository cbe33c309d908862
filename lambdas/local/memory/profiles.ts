import { MemoryProfileStorage } from '../../core/profiles/memory-storage';
import type { ProfileState } from '../../core/profiles/model';
import type { Clock } from '../../core/runtime/ports';
import type { MemoryTable } from './table';
import { membershipKey } from './segments';

/**
 * The profiles table in memory: the identity graph's storage (MemoryProfileStorage, the same conditional semantics as
 * DynamoProfileStorage, so ingest, merge, consent, dedupe and limits run the deployed algorithm) and, as in DynamoDB,
 * the memberships item in the profile's partition, which erasing the profile's items deletes with them.
 */
export class MemoryProfileTable extends MemoryProfileStorage {
  /** Changes whenever a profile id is added or removed (the scanner's cached order of ids holds until then). */
  generation = 0;

  constructor(
    clock: Clock,
    windowDays: number,
    private readonly memberships: MemoryTable,
  ) {
    super(() => clock.now(), windowDays);
  }

  override async createProfile(state: ProfileState): Promise<boolean> {
    const created = await super.createProfile(state);
    if (created) this.generation++;
    return created;
  }

  override async deleteProfileItems(profileId: string): Promise<number> {
    this.generation++;
    const deleted = await super.deleteProfileItems(profileId);
    return deleted + (this.memberships.delete(membershipKey(profileId)) ? 1 : 0);
  }
}
