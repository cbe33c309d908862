import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * BatchGetItem in requests of at most 100 keys (its limit; a response holds at most 16 MB, the rest comes back as
 * UnprocessedKeys, read again here with a backoff):
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html
 */
export const BATCH_GET_MAX_KEYS = 100;
/** Rounds of UnprocessedKeys before giving up (the SDK retries throttling inside each request too). */
const MAX_ROUNDS = 8;

export type ItemKey = { pk: string; sk: string };

const keyOf = (key: ItemKey) => `${key.pk}\u0000${key.sk}`;
const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The items of `keys` in one table, in the order of `keys` (undefined where there is none). Keys may repeat: a
 * request must not hold duplicates (DynamoDB refuses it), so each is read once.
 */
export async function batchGetItems(
  db: DynamoDBDocumentClient,
  table: string,
  keys: readonly ItemKey[],
  options: { consistent?: boolean; sleep?: (ms: number) => Promise<void> } = {},
): Promise<(Record<string, unknown> | undefined)[]> {
  const unique = new Map<string, ItemKey>();
  for (const key of keys) unique.set(keyOf(key), { pk: key.pk, sk: key.sk });
  const found = new Map<string, Record<string, unknown>>();
  const all = [...unique.values()];
  for (let start = 0; start < all.length; start += BATCH_GET_MAX_KEYS) {
    let pending: ItemKey[] = all.slice(start, start + BATCH_GET_MAX_KEYS);
    for (let round = 0; pending.length > 0; round++) {
      if (round >= MAX_ROUNDS) {
        throw new Error(`BatchGetItem on ${table}: ${pending.length} keys still unprocessed after ${MAX_ROUNDS} rounds`);
      }
      if (round > 0) await (options.sleep ?? defaultSleep)(Math.min(1_000, 50 * 2 ** round));
      const ConsistentRead = options.consistent ?? false;
      const out = await db.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead } } }));
      for (const item of out.Responses?.[table] ?? []) found.set(keyOf(item as ItemKey), item);
      pending = (out.UnprocessedKeys?.[table]?.Keys as ItemKey[] | undefined) ?? [];
    }
  }
  return keys.map((key) => found.get(keyOf(key)));
}
