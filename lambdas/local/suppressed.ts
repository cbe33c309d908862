import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { LedgerEntry } from '../core/runtime/ports';
import type { MemoryTable } from './memory/table';

/** A message the send step did not send, as the outbox's suppressed list shows it. */
export type SuppressedMessage = Pick<LedgerEntry, 'journeyId' | 'nodeId' | 'channel' | 'profileId' | 'executionId' | 'reason' | 'preparedAt'>;
export type SuppressedFilter = Partial<Pick<LedgerEntry, 'journeyId' | 'profileId' | 'channel'>>;

/** The most entries the list answers (newest first). */
export const SUPPRESSED_LIMIT = 1000;

const LEDGER_PREFIX = 'LEDGER#';

/** Reads the ledger's `suppressed` entries of the local runtime table (a Scan: local only, never on AWS). */
export type SuppressedSource = () => Promise<Record<string, unknown>[]>;

export function memorySuppressedSource(runtime: MemoryTable): SuppressedSource {
  return async () =>
    runtime
      .partitionKeys()
      .filter((pk) => pk.startsWith(LEDGER_PREFIX))
      .flatMap((pk) => runtime.query(pk))
      .filter((item) => item.status === 'suppressed');
}

export function dynamoSuppressedSource(db: DynamoDBDocumentClient, table: string): SuppressedSource {
  return async () => {
    const items: Record<string, unknown>[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await db.send(
        new ScanCommand({
          TableName: table,
          FilterExpression: 'begins_with(#pk, :ledger) AND #status = :suppressed',
          ExpressionAttributeNames: { '#pk': 'pk', '#status': 'status' },
          ExpressionAttributeValues: { ':ledger': LEDGER_PREFIX, ':suppressed': 'suppressed' },
          ExclusiveStartKey,
        }),
      );
      items.push(...(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return items;
  };
}

/** The suppressed messages matching `filter`, newest first, at most SUPPRESSED_LIMIT of them. */
export async function listSuppressed(source: SuppressedSource, filter: SuppressedFilter = {}): Promise<SuppressedMessage[]> {
  const matches = (item: Record<string, unknown>) =>
    (filter.journeyId === undefined || item.journeyId === filter.journeyId) &&
    (filter.profileId === undefined || item.profileId === filter.profileId) &&
    (filter.channel === undefined || item.channel === filter.channel);
  return (await source())
    .filter(matches)
    .map((item) => {
      const e = item as unknown as LedgerEntry;
      return { journeyId: e.journeyId, nodeId: e.nodeId, channel: e.channel, profileId: e.profileId, executionId: e.executionId, reason: e.reason, preparedAt: e.preparedAt };
    })
    .sort((a, b) => (a.preparedAt < b.preparedAt ? 1 : a.preparedAt > b.preparedAt ? -1 : 0))
    .slice(0, SUPPRESSED_LIMIT);
}
