import { ProfileIndex, TableKeys } from '../../core/config/env-keys';
import { sendCapExpiresAt, sendCapKey } from '../../core/governance/keys';
import type { ReserveOutcome, ReserveRequest, RuleSource, SendCapStore } from '../../core/governance/ports';
import { mergeSlots, readSlots, releaseSlot, reserveSlot, type Slot } from '../../core/governance/slots';
import { Rule, type RuleInput } from '../../core/governance/rules';
import type { MemoryTable } from './table';

/** The same item, key and version as DynamoSendCapStore; each call is atomic in process. */
export class MemorySendCapStore implements SendCapStore {
  constructor(private readonly table: MemoryTable) {}

  async reserve(profileId: string, request: ReserveRequest): Promise<ReserveOutcome> {
    const outcome = reserveSlot(this.slots(profileId), request);
    if (!outcome.ok) return outcome;
    if (outcome.changed) this.write(profileId, outcome.slots, request.at);
    return { ok: true, taken: outcome.taken };
  }

  async release(profileId: string, holder: string, at: Date): Promise<boolean> {
    const { slots, released } = releaseSlot(this.slots(profileId), holder, at);
    if (released) this.write(profileId, slots, at);
    return released;
  }

  async carryOver(fromProfileId: string, toProfileId: string): Promise<number> {
    const absorbed = this.slots(fromProfileId);
    if (absorbed.length === 0) return 0;
    // No clock here: nothing is dropped as expired (the next reservation does that on its own clock).
    const at = new Date(0);
    const { slots, added } = mergeSlots(this.slots(toProfileId), absorbed, at);
    if (added === 0) return 0;
    this.write(toProfileId, slots, at);
    return 1;
  }

  private slots(profileId: string): Slot[] {
    return readSlots(this.table.get(sendCapKey(profileId))?.slots);
  }

  private write(profileId: string, slots: Slot[], at: Date): void {
    const held = this.table.get(sendCapKey(profileId));
    const version = typeof held?.version === 'number' ? held.version : 0;
    this.table.put({
      ...sendCapKey(profileId),
      [ProfileIndex.partitionKey]: profileId,
      slots,
      version: version + 1,
      [TableKeys.ttl]: sendCapExpiresAt(slots, at.getTime()),
    });
  }
}

/** A fixed list of rules (the local stack's `rules` option, tests), validated as files are. */
export function staticRules(rules: readonly (Rule | RuleInput)[]): RuleSource {
  const parsed = rules.map((rule) => Rule.parse(rule));
  return { list: async () => parsed };
}
