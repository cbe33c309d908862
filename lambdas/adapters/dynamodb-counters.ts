import { onceMarkItemKey } from '../core/measure/once-marks';
import { PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CounterIncrement, CounterTotal, JourneyCounters } from '../core/measure/counters';
import { checkIncrement, CounterReadLimitError, checkWindow } from '../core/measure/counter-checks';
import type { OnceMarks } from '../core/measure/once-marks';
import { COUNTER_SHARDS, counterPartitionKey, counterSortKey, dayRange, parseCounterSortKey, sumTotals } from '../core/measure/keys';

/** Pages a report may read per shard: at ~100 bytes an item, 1 MB pages hold ~10,000 counters each. */
export const MAX_PAGES_PER_SHARD = 20;
/** Increments written at once by one `add` (each is one UpdateItem on its own item). */
const WRITE_CONCURRENCY = 8;

/**
 * Journey counters as ADD updates on sharded items of the runtime table (keys: lambdas/core/measure/keys.ts).
 * On-demand tables allow about 1,000 write units per second per partition key (hot partitions:
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-sharding.html and
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/throttling-key-range-limit-exceeded-mitigation.html):
 * each increment goes to one of COUNTER_SHARDS (16) partition keys picked at random, ~16,000 increments/s per journey.
 * ADD is atomic on the item, so concurrent increments never lose one; a read queries each shard's window and sums.
 */
export class DynamoJourneyCounters implements JourneyCounters {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly random: () => number = Math.random,
  ) {}

  async add(increments: readonly CounterIncrement[]): Promise<void> {
    for (const inc of increments) checkIncrement(inc);
    const queue = [...increments];
    const worker = async () => {
      for (let inc = queue.shift(); inc; inc = queue.shift()) {
        const shard = Math.min(COUNTER_SHARDS - 1, Math.floor(this.random() * COUNTER_SHARDS));
        await this.db.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: counterPartitionKey(inc.journeyId, shard), sk: counterSortKey(inc.day, inc.name, inc.dims) },
            UpdateExpression: 'ADD #value :by',
            ExpressionAttributeNames: { '#value': 'value' },
            ExpressionAttributeValues: { ':by': inc.by ?? 1 },
          }),
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(WRITE_CONCURRENCY, queue.length) }, worker));
  }

  async read(journeyId: string, fromDay: string, toDay: string): Promise<CounterTotal[]> {
    checkWindow(fromDay, toDay);
    const { start, end } = dayRange(fromDay, toDay);
    const shards = await Promise.all(
      Array.from({ length: COUNTER_SHARDS }, async (_, shard) => {
        const totals: CounterTotal[] = [];
        let ExclusiveStartKey: Record<string, unknown> | undefined;
        let pages = 0;
        do {
          if (++pages > MAX_PAGES_PER_SHARD) throw new CounterReadLimitError(journeyId, MAX_PAGES_PER_SHARD);
          const page = await this.db.send(
            new QueryCommand({
              TableName: this.table,
              KeyConditionExpression: 'pk = :pk AND sk BETWEEN :start AND :end',
              ExpressionAttributeValues: { ':pk': counterPartitionKey(journeyId, shard), ':start': start, ':end': end },
              ExclusiveStartKey,
            }),
          );
          for (const item of page.Items ?? []) {
            const key = parseCounterSortKey(item.sk as string);
            if (key) totals.push({ ...key, value: Number(item.value ?? 0) });
          }
          ExclusiveStartKey = page.LastEvaluatedKey;
        } while (ExclusiveStartKey);
        return totals;
      }),
    );
    return sumTotals(shards.flat());
  }
}

/** First-time marks (`ONCE#<key>`) in the runtime table: a conditional put, removed by TTL after `expiresAt`. */
export class DynamoOnceMarks implements OnceMarks {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async first(key: string, expiresAt: number): Promise<boolean> {
    try {
      await this.db.send(new PutCommand({ TableName: this.table, Item: { ...onceMarkItemKey(key), expiresAt }, ConditionExpression: 'attribute_not_exists(pk)' }));
      return true;
    } catch (error) {
      if ((error as { name?: string })?.name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }
}
