import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { RUN_COUNTER, type CampaignRunRecord, type CampaignRuns, type RunCount, type RunCounterName } from '../core/campaigns/contract';
import { escapeKeyPart } from '../core/measure/keys';
import { InvalidCursorError } from '../core/runtime/errors';

/**
 * Campaign runs in the runtime table.
 *   run record   pk `CAMPAIGN_RUNS#<campaignId>`  sk `RUN#<createdAt>#<runId>`  (the record as JSON, `version`, `status`)
 *   run id       pk `CAMPAIGN_RUNS#<campaignId>`  sk `RUNID#<runId>`            (`createdAt`: finds the record's key)
 *   counters     pk `CAMPAIGN_COUNT#<campaignId>#<runId>#<shard>`  sk `<step>#<name>#<dim>` (escaped), ADDed `value`
 *   facts        pk `CAMPAIGN_FACT#<campaignId>#<runId>#<shard>`   sk `<fact>` (`counts` as JSON): `addOnce`
 * Listing is one Query of the campaign's `RUN#` range, newest first (ISO times sort as text). A get reads the run id's
 * item, then the record. Creation is conditional on the run id's item (dynalite has no transactions, so a retry after
 * a crash between the two puts completes the record instead of refusing it forever).
 */
export const CAMPAIGN_RUNS_PREFIX = 'CAMPAIGN_RUNS#';
export const CAMPAIGN_COUNT_PREFIX = 'CAMPAIGN_COUNT#';
export const CAMPAIGN_FACT_PREFIX = 'CAMPAIGN_FACT#';
/** Pages `counts` reads per fact shard (a fact per audience page or split batch: 100,000 facts are ~2 pages a shard). */
export const MAX_FACT_PAGES_PER_SHARD = 200;
/**
 * Counter shards per run: on-demand tables take about 1,000 writes per second per partition key
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-sharding.html), so 16 random
 * shards take ~16,000 increments per second per run; `counts` queries each shard and sums.
 */
export const CAMPAIGN_COUNTER_SHARDS = 16;
/** Pages `counts` reads per shard (a run has a few hundred counters at most: steps × names × reasons). */
export const MAX_COUNTER_PAGES_PER_SHARD = 10;
/** Step ids and dimensions are bounded so a counter key stays far below DynamoDB's 1 KB sort key. */
export const MAX_COUNTER_PART_LENGTH = 128;
const WRITE_CONCURRENCY = 8;

const runsPk = (campaignId: string) => `${CAMPAIGN_RUNS_PREFIX}${campaignId}`;
const recordSk = (createdAt: string, runId: string) => `RUN#${createdAt}#${runId}`;
const idSk = (runId: string) => `RUNID#${runId}`;
const countPk = (campaignId: string, runId: string, shard: number) => `${CAMPAIGN_COUNT_PREFIX}${campaignId}#${runId}#${shard}`;
const factPk = (campaignId: string, runId: string, shard: number) => `${CAMPAIGN_FACT_PREFIX}${campaignId}#${runId}#${shard}`;
/** A fact's shard: a hash of its name, so a retried fact meets its own marker. */
function factShard(fact: string): number {
  let h = 0;
  for (let i = 0; i < fact.length; i++) h = (Math.imul(h, 31) + fact.charCodeAt(i)) >>> 0;
  return h % CAMPAIGN_COUNTER_SHARDS;
}
const countSk = (c: Pick<RunCount, 'step' | 'name' | 'dim'>) => `${escapeKeyPart(c.step)}#${c.name}#${escapeKeyPart(c.dim)}`;

const COUNTER_NAMES = new Set<string>(Object.values(RUN_COUNTER));

const isConditionFailure = (error: unknown) => (error as { name?: string } | null)?.name === 'ConditionalCheckFailedException';
const encodeCursor = (sk: string) => Buffer.from(sk, 'utf8').toString('base64url');

function decodeCursor(cursor: string): string {
  const sk = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!sk.startsWith('RUN#') || encodeCursor(sk) !== cursor) throw new InvalidCursorError('campaign runs', cursor);
  return sk;
}

/** Refuses a counter the runs cannot hold: an unknown name, a step or dimension past the bound, a non-finite value. */
export function checkRunCount(count: Omit<RunCount, 'value'> & { value?: number }): void {
  if (!COUNTER_NAMES.has(count.name)) throw new Error(`campaign run counter: unknown counter ${JSON.stringify(String(count.name).slice(0, 64))}`);
  for (const part of ['step', 'dim'] as const) {
    if (typeof count[part] !== 'string' || count[part].length > MAX_COUNTER_PART_LENGTH) {
      throw new Error(`campaign run counter: ${part} is a string of at most ${MAX_COUNTER_PART_LENGTH} characters`);
    }
  }
  if (count.value !== undefined && !Number.isFinite(count.value)) throw new Error('campaign run counter: value is a finite number');
}

function parseCountSk(sk: string): Omit<RunCount, 'value'> | undefined {
  const parts = sk.split('#');
  if (parts.length !== 3 || !COUNTER_NAMES.has(parts[1])) return undefined;
  return { step: decodeURIComponent(parts[0]), name: parts[1] as RunCounterName, dim: decodeURIComponent(parts[2]) };
}

export class DynamoCampaignRuns implements CampaignRuns {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly random: () => number = Math.random,
  ) {}

  async create(record: CampaignRunRecord): Promise<boolean> {
    const pk = runsPk(record.campaignId);
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk, sk: idSk(record.runId), createdAt: record.createdAt },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // Taken: by another run, or by this very record whose second put did not happen (a retry completes it).
      const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: { pk, sk: idSk(record.runId) }, ConsistentRead: true }));
      if (Item?.createdAt !== record.createdAt) return false;
    }
    return this.putRecord(record, 'attribute_not_exists(pk)');
  }

  async get(campaignId: string, runId: string): Promise<CampaignRunRecord | undefined> {
    const pk = runsPk(campaignId);
    const { Item: id } = await this.db.send(new GetCommand({ TableName: this.table, Key: { pk, sk: idSk(runId) }, ConsistentRead: true }));
    if (typeof id?.createdAt !== 'string') return undefined;
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: { pk, sk: recordSk(id.createdAt, runId) }, ConsistentRead: true }));
    return Item ? (JSON.parse(Item.record as string) as CampaignRunRecord) : undefined;
  }

  async list(campaignId: string, options: { limit: number; cursor?: string }): Promise<{ runs: CampaignRunRecord[]; cursor?: string }> {
    if (!Number.isInteger(options.limit) || options.limit < 1) throw new Error(`campaign runs: limit must be a positive integer, received ${options.limit}`);
    const pk = runsPk(campaignId);
    const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
    const items: { sk: string; record: string }[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined = after === undefined ? undefined : { pk, sk: after };
    // One more than the page, so the last page says so (no cursor) instead of leading to an empty one.
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :run)',
          ExpressionAttributeValues: { ':pk': pk, ':run': 'RUN#' },
          ScanIndexForward: false,
          Limit: options.limit + 1 - items.length,
          ConsistentRead: true,
          ExclusiveStartKey,
        }),
      );
      for (const item of page.Items ?? []) items.push({ sk: item.sk as string, record: item.record as string });
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey && items.length <= options.limit);
    const more = items.length > options.limit;
    if (more) items.length = options.limit;
    const runs = items.map((item) => JSON.parse(item.record) as CampaignRunRecord);
    return more ? { runs, cursor: encodeCursor(items[items.length - 1].sk) } : { runs };
  }

  async update(record: CampaignRunRecord, expectedVersion: number): Promise<boolean> {
    // The key holds createdAt: a record whose createdAt changed finds no item and is refused like a stale version.
    return this.putRecord(record, 'attribute_exists(pk) AND #version = :expected', { ':expected': expectedVersion });
  }

  private async putRecord(record: CampaignRunRecord, condition: string, values?: Record<string, unknown>): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            pk: runsPk(record.campaignId),
            sk: recordSk(record.createdAt, record.runId),
            record: JSON.stringify(record),
            runId: record.runId,
            status: record.status,
            version: record.version,
          },
          ConditionExpression: condition,
          ...(values ? { ExpressionAttributeNames: { '#version': 'version' }, ExpressionAttributeValues: values } : {}),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async add(campaignId: string, runId: string, counts: readonly Omit<RunCount, 'value'>[] | readonly RunCount[]): Promise<void> {
    // Increments of one counter in one call are summed first: one write each, whatever the batch repeats.
    const summed = new Map<string, RunCount>();
    for (const count of counts as readonly (Omit<RunCount, 'value'> & { value?: number })[]) {
      checkRunCount(count);
      const sk = countSk(count);
      const seen = summed.get(sk);
      if (seen) seen.value += count.value ?? 1;
      else summed.set(sk, { step: count.step, name: count.name, dim: count.dim, value: count.value ?? 1 });
    }
    const queue = [...summed.entries()];
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const shard = Math.min(CAMPAIGN_COUNTER_SHARDS - 1, Math.floor(this.random() * CAMPAIGN_COUNTER_SHARDS));
        await this.db.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: countPk(campaignId, runId, shard), sk: next[0] },
            UpdateExpression: 'ADD #value :by',
            ExpressionAttributeNames: { '#value': 'value' },
            ExpressionAttributeValues: { ':by': next[1].value },
          }),
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(WRITE_CONCURRENCY, queue.length) }, worker));
  }

  /**
   * The fact's counts live on its marker item, written by one conditional put (dynalite has no transactions, and
   * none is needed): either the fact and its counts are there, or neither is. `counts` adds them to the counters'.
   */
  async addOnce(campaignId: string, runId: string, fact: string, counts: readonly RunCount[]): Promise<boolean> {
    if (typeof fact !== 'string' || fact.length === 0 || fact.length > 512) throw new Error('campaign run fact: a string of 1 to 512 characters');
    for (const count of counts) checkRunCount(count);
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: factPk(campaignId, runId, factShard(fact)), sk: fact, counts: JSON.stringify(counts.map(({ step, name, dim, value }) => ({ step, name, dim, value }))) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Every item of the run's shards of one kind (counters or facts), read page by page, at most `maxPages` a shard. */
  private async readShards(
    what: string,
    pkOf: (shard: number) => string,
    maxPages: number,
    read: (item: Record<string, unknown>) => RunCount[],
  ): Promise<RunCount[]> {
    const shards = await Promise.all(
      Array.from({ length: CAMPAIGN_COUNTER_SHARDS }, async (_, shard) => {
        const found: RunCount[] = [];
        let ExclusiveStartKey: Record<string, unknown> | undefined;
        let pages = 0;
        do {
          if (++pages > maxPages) throw new Error(`${what}: more than ${maxPages} pages per shard`);
          const page = await this.db.send(
            new QueryCommand({ TableName: this.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pkOf(shard) }, ExclusiveStartKey }),
          );
          for (const item of page.Items ?? []) found.push(...read(item));
          ExclusiveStartKey = page.LastEvaluatedKey;
        } while (ExclusiveStartKey);
        return found;
      }),
    );
    return shards.flat();
  }

  async counts(campaignId: string, runId: string): Promise<RunCount[]> {
    const run = `campaign run ${campaignId}/${runId}`;
    const [counters, facts] = await Promise.all([
      this.readShards(`${run} counters`, (shard) => countPk(campaignId, runId, shard), MAX_COUNTER_PAGES_PER_SHARD, (item) => {
        const key = parseCountSk(item.sk as string);
        return key ? [{ ...key, value: Number(item.value ?? 0) }] : [];
      }),
      this.readShards(`${run} facts`, (shard) => factPk(campaignId, runId, shard), MAX_FACT_PAGES_PER_SHARD, (item) => {
        const parsed: unknown = JSON.parse(String(item.counts ?? '[]'));
        if (!Array.isArray(parsed)) return [];
        return (parsed as RunCount[])
          .filter((c) => COUNTER_NAMES.has(c.name) && Number.isFinite(c.value))
          .map((c) => ({ step: String(c.step), name: c.name, dim: String(c.dim), value: c.value }));
      }),
    ]);
    const totals = new Map<string, RunCount>();
    for (const count of [...counters, ...facts]) {
      const sk = countSk(count);
      const seen = totals.get(sk);
      if (seen) seen.value += count.value;
      else totals.set(sk, { ...count });
    }
    return [...totals.values()].sort((a, b) => countSk(a).localeCompare(countSk(b)));
  }
}
