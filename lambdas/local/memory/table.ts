import { ProfileIndex, TableKeys } from '../../core/config/env-keys';

/** An item as the document client reads and writes it (`pk`, `sk`, attributes). */
export type Item = Record<string, unknown>;
export interface ItemKey {
  pk: string;
  sk: string;
}

/** What DynamoDB answers for a request it refuses (the name the SDK gives the error). */
export class MemoryValidationError extends Error {
  override readonly name = 'ValidationException';
}

// Key values are 1 to 2048 (partition) and 1 to 1024 (sort) bytes:
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html#limits-partition-sort-keys
const MAX_PK_BYTES = 2048;
const MAX_SK_BYTES = 1024;

interface Partition {
  items: Map<string, Item>;
  /** Sort keys in DynamoDB's order, rebuilt on the first query after a key was added or removed. */
  sorted?: string[];
}

/**
 * One DynamoDB table in memory, for the in-memory ports (lambdas/local/memory-ports.ts): items under `pk`/`sk`, sort
 * keys in DynamoDB's order (UTF-8 bytes), and optionally the runtime table's `byProfile` index. Every write and read
 * is atomic; a write stores a frozen copy, so neither the writer nor a reader can change a stored item afterwards.
 * Expired items stay until `sweepExpired` (DynamoDB's TTL deletes them within days, so readers that care check
 * `expiresAt` themselves, as the DynamoDB adapters do).
 */
export class MemoryTable {
  private readonly partitions = new Map<string, Partition>();
  /** byProfile: profile id → `pk\0sk` → key. */
  private readonly index = new Map<string, Map<string, ItemKey>>();

  constructor(
    readonly name: string,
    private readonly options: { profileIndex?: boolean } = {},
  ) {}

  get(key: ItemKey): Item | undefined {
    const item = this.partitions.get(key.pk)?.items.get(key.sk);
    return item && read(item);
  }

  /** Writes the item (replacing any with its key), without its `undefined` attributes (as `removeUndefinedValues`). */
  put(item: Item): void {
    const key = checkedKey(item);
    const stored = copyItem(item);
    let partition = this.partitions.get(key.pk);
    if (!partition) this.partitions.set(key.pk, (partition = { items: new Map() }));
    const previous = partition.items.get(key.sk);
    if (previous === undefined) partition.sorted = undefined;
    else this.unindex(previous, key);
    partition.items.set(key.sk, stored);
    this.reindex(stored, key);
  }

  /** Deletes the item; returns what it held, if anything. */
  delete(key: ItemKey): Item | undefined {
    const partition = this.partitions.get(key.pk);
    const item = partition?.items.get(key.sk);
    if (!partition || item === undefined) return undefined;
    partition.items.delete(key.sk);
    partition.sorted = undefined;
    if (partition.items.size === 0) this.partitions.delete(key.pk);
    this.unindex(item, key);
    return item;
  }

  /**
   * A Query of one partition: items whose sort key starts with `prefix`, in sort-key order (reversed with
   * `descending`), after `exclusiveStart` (in that direction), at most `limit` of them.
   */
  query(pk: string, options: { prefix?: string; descending?: boolean; exclusiveStart?: string; limit?: number } = {}): Item[] {
    const partition = this.partitions.get(pk);
    if (!partition) return [];
    const keys = (partition.sorted ??= [...partition.items.keys()].sort(compareKeys));
    const { prefix = '', descending = false, exclusiveStart, limit = Infinity } = options;
    const out: Item[] = [];
    const step = descending ? -1 : 1;
    let i = descending ? keys.length - 1 : 0;
    if (exclusiveStart !== undefined) {
      // The first key strictly after the start, in the direction of the query.
      const at = lowerBound(keys, exclusiveStart);
      i = descending ? at - 1 : keys[at] === exclusiveStart ? at + 1 : at;
    }
    for (; i >= 0 && i < keys.length && out.length < limit; i += step) {
      if (!keys[i].startsWith(prefix)) continue;
      out.push(read(partition.items.get(keys[i])!));
    }
    return out;
  }

  /** The keys of the items of a profile (`profileId`; the byProfile index, sorted by `pk`), optionally under `pkPrefix`. */
  profileKeys(profileId: string, pkPrefix = ''): ItemKey[] {
    if (!this.options.profileIndex) throw new Error(`table ${this.name} has no ${ProfileIndex.name} index`);
    const keys = [...(this.index.get(profileId)?.values() ?? [])].filter((k) => k.pk.startsWith(pkPrefix));
    return keys.sort((a, b) => compareKeys(a.pk, b.pk) || compareKeys(a.sk, b.sk)).map((k) => ({ ...k }));
  }

  /** Partition keys, in no particular order (a Scan's view). */
  partitionKeys(): string[] {
    return [...this.partitions.keys()];
  }

  /** Deletes every item whose TTL (`expiresAt`, epoch seconds) is at or before `nowSeconds`, as TTL does eventually. */
  sweepExpired(nowSeconds: number): number {
    let deleted = 0;
    for (const [pk, partition] of [...this.partitions]) {
      for (const [sk, item] of [...partition.items]) {
        const ttl = item[TableKeys.ttl];
        if (typeof ttl === 'number' && ttl <= nowSeconds) {
          this.delete({ pk, sk });
          deleted++;
        }
      }
    }
    return deleted;
  }

  /** Items held (for tests and the bench). */
  get size(): number {
    let count = 0;
    for (const partition of this.partitions.values()) count += partition.items.size;
    return count;
  }

  private reindex(item: Item, key: ItemKey): void {
    const profileId = item[ProfileIndex.partitionKey];
    // A GSI holds only items with its key attribute of the declared type (S).
    if (!this.options.profileIndex || typeof profileId !== 'string') return;
    let keys = this.index.get(profileId);
    if (!keys) this.index.set(profileId, (keys = new Map()));
    keys.set(`${key.pk}\u0000${key.sk}`, { pk: key.pk, sk: key.sk });
  }

  private unindex(item: Item, key: ItemKey): void {
    const profileId = item[ProfileIndex.partitionKey];
    if (!this.options.profileIndex || typeof profileId !== 'string') return;
    const keys = this.index.get(profileId);
    keys?.delete(`${key.pk}\u0000${key.sk}`);
    if (keys?.size === 0) this.index.delete(profileId);
  }
}

/** What a read hands out: the stored (frozen) item, or a copy if it holds a set. */
function read(item: Item): Item {
  return holdsSet(item) ? copyItem(item) : item;
}

function checkedKey(item: Item): ItemKey {
  const { pk, sk } = item;
  if (typeof pk !== 'string' || typeof sk !== 'string' || pk === '' || sk === '') {
    throw new MemoryValidationError('One or more parameter values were invalid: pk and sk must be non-empty strings');
  }
  const refused = 'One or more parameter values were invalid:';
  if (Buffer.byteLength(pk) > MAX_PK_BYTES) {
    throw new MemoryValidationError(`${refused} Size of hashkey has exceeded the maximum size limit of ${MAX_PK_BYTES} bytes`);
  }
  if (Buffer.byteLength(sk) > MAX_SK_BYTES) {
    throw new MemoryValidationError(`${refused} Aggregated size of all range keys has exceeded the size limit of ${MAX_SK_BYTES} bytes`);
  }
  return { pk, sk };
}

/**
 * DynamoDB orders string keys by their UTF-8 bytes, which is code-point order. UTF-16 code units agree except that
 * surrogates (U+D800–DFFF, code points above U+FFFF) must sort after U+E000–FFFF: shift both ranges before comparing.
 */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/** The first index whose key is not below `key`. */
function lowerBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(keys[mid], key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A deep, frozen copy of an item as the document client would store it: `undefined` attributes dropped, maps (objects
 * and `Map`s) as plain objects, lists copied. Frozen, so reads hand out the stored item itself: a reader can never
 * change what is stored (an attempt throws), at a fraction of the cost of copying on every read.
 */
export function copyItem(item: Item): Item {
  return copyValue(item) as Item;
}

function copyValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const list: unknown[] = [];
    for (const inner of value) if (inner !== undefined) list.push(copyValue(inner));
    return Object.freeze(list);
  }
  // A set is not frozen by Object.freeze: each read of an item holding one copies it (only memoryUpdateItem writes sets).
  if (value instanceof Set) return new Set(value);
  const out: Record<string, unknown> = {};
  const entries: Iterable<[string, unknown]> = value instanceof Map ? value.entries() : Object.entries(value);
  for (const [key, inner] of entries) {
    if (inner === undefined) continue;
    // defineProperty for `__proto__`, so it stays an own key; plain assignment (faster) for every other name.
    if (key === '__proto__') {
      Object.defineProperty(out, key, { value: copyValue(inner), enumerable: true, writable: true, configurable: true });
    } else out[key] = copyValue(inner);
  }
  return Object.freeze(out);
}

/** Whether an item holds a set (frozen items with sets are copied on read, so no reader can add to the stored one). */
function holdsSet(item: Item): boolean {
  for (const key in item) if (item[key] instanceof Set) return true;
  return false;
}
