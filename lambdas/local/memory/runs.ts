import { gatherMessagedBy, gatherRuns, messagedPrefixes, runPrefixes } from '../../adapters/dynamodb-runs';
import type { LedgerRecord, MessageSender, ProfileRuns, RunRef } from '../../core/runtime/ports';
import type { MemoryTable } from './table';

/** DynamoProfileRuns over the in-memory runtime table: the same index prefixes, bounds and items. */
export class MemoryProfileRuns implements ProfileRuns {
  constructor(private readonly table: MemoryTable) {}

  async list(profileId: string, options: { journeyId?: string; maxKeys: number }): Promise<{ runs: RunRef[]; truncated: boolean }> {
    const keys: { pk: string; sk: string }[] = [];
    let truncated = false;
    for (const prefix of runPrefixes(profileId, options.journeyId)) {
      const found = this.table.profileKeys(profileId, prefix);
      const room = options.maxKeys - keys.length;
      if (found.length > room) truncated = true;
      keys.push(...found.slice(0, Math.max(0, room)));
    }
    return { runs: await gatherRuns(keys, profileId, options.journeyId, async (key) => this.table.get(key)), truncated };
  }

  async messagedBy(profileId: string, senders: readonly MessageSender[], maxKeys: number): Promise<string[]> {
    // Descending per prefix, as the DynamoDB adapter queries.
    const keys = messagedPrefixes(senders).flatMap((prefix) =>
      this.table.profileKeys(profileId, prefix).reverse().slice(0, maxKeys),
    );
    return gatherMessagedBy(keys, senders, async (key) => this.table.get(key));
  }

  async messages(executionArn: string, limit: number): Promise<LedgerRecord[]> {
    return this.table.query(`LEDGER#${executionArn}`, { limit }) as unknown as LedgerRecord[];
  }
}
