import { GetCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ProfileIndex } from '../core/config/env-keys';
import type { LedgerRecord, MessageSender, ProfileRuns, RunRef } from '../core/runtime/ports';

/**
 * The runtime items that name a profile's runs, by the profile index's sort key (the item's pk):
 * `ENROLL#<journey>#<profile>` (latest run; its ARN is in the item), `RUN#<execution ARN>` (runs of `always` journeys),
 * `LEDGER#<execution ARN>` (one per message, kept 400 days: older runs that sent something), and
 * `DECISIONKEY#<profile>#<execution ARN>#<node>` (a decide step's idempotency key).
 */
export function runPrefixes(profileId: string, journeyId?: string): string[] {
  return [journeyId === undefined ? 'ENROLL#' : `ENROLL#${journeyId}#`, 'RUN#', 'LEDGER#', `DECISIONKEY#${profileId}#arn:`];
}

const EXECUTION_ARN = /^arn:[^#]+:states:[^#]*:[^#]*:execution:[^#:]+:[^#:]+$/;

/** The journey of an execution: its name is `<journey>--<digest>` (runtime/enter.ts `executionName`). */
export function journeyOfExecution(executionArn: string): string | undefined {
  const name = executionArn.slice(executionArn.lastIndexOf(':') + 1);
  const at = name.indexOf('--');
  return at > 0 ? name.slice(0, at) : undefined;
}

/**
 * The run a key names, or what to read to know it: an enrollment names its journey, its ARN is in the item (`read`).
 * Undefined for a key of another kind (an API decision's key, a malformed item).
 */
export function runOfKey(pk: string, profileId: string): { run?: RunRef; read?: { journeyId: string } } | undefined {
  if (pk.startsWith('ENROLL#')) {
    const rest = pk.slice('ENROLL#'.length);
    const journeyId = rest.slice(0, rest.indexOf('#'));
    return journeyId === '' ? undefined : { read: { journeyId } };
  }
  let arn: string | undefined;
  if (pk.startsWith('RUN#')) arn = pk.slice('RUN#'.length);
  else if (pk.startsWith('LEDGER#')) arn = pk.slice('LEDGER#'.length);
  else if (pk.startsWith(`DECISIONKEY#${profileId}#`)) {
    const key = pk.slice(`DECISIONKEY#${profileId}#`.length);
    arn = key.slice(0, key.lastIndexOf('#'));
  }
  if (arn === undefined || !EXECUTION_ARN.test(arn)) return undefined;
  const journeyId = journeyOfExecution(arn);
  return journeyId === undefined ? undefined : { run: { journeyId, executionArn: arn } };
}

/** Gathers runs from keys (dedup by ARN), reading enrollment items through `readEnrollment`. */
export async function gatherRuns(
  keys: readonly { pk: string; sk: string }[],
  profileId: string,
  journeyId: string | undefined,
  readEnrollment: (key: { pk: string; sk: string }) => Promise<Record<string, unknown> | undefined>,
): Promise<RunRef[]> {
  const runs = new Map<string, RunRef>();
  for (const key of keys) {
    const found = runOfKey(key.pk, profileId);
    if (!found) continue;
    let run = found.run;
    if (found.read) {
      const item = await readEnrollment(key);
      if (typeof item?.executionArn !== 'string') continue;
      run = { journeyId: found.read.journeyId, executionArn: item.executionArn, ...(typeof item.enteredAt === 'string' ? { enteredAt: item.enteredAt } : {}) };
    }
    if (!run || (journeyId !== undefined && run.journeyId !== journeyId)) continue;
    if (!runs.has(run.executionArn) || run.enteredAt !== undefined) runs.set(run.executionArn, run);
  }
  return [...runs.values()];
}

/**
 * The sender a ledger key names: `campaign:<id>` for a campaign message (`LEDGER#campaign:<id>:<run>:<profile>`),
 * else the journey of the execution.
 */
export function senderOfLedgerKey(pk: string): string | undefined {
  if (!pk.startsWith('LEDGER#')) return undefined;
  const id = pk.slice('LEDGER#'.length);
  if (id.startsWith('campaign:')) {
    const end = id.indexOf(':', 'campaign:'.length);
    return end > 'campaign:'.length ? id.slice(0, end) : undefined;
  }
  return EXECUTION_ARN.test(id) ? journeyOfExecution(id) : undefined;
}

/** Did this ledger item (read by key) record a message that went out, or may have, at or after `since`? */
export function messagedSince(item: Record<string, unknown> | undefined, since: string): boolean {
  if (!item || item.status === 'failed' || item.status === 'suppressed') return false;
  return typeof item.preparedAt === 'string' && item.preparedAt >= since;
}

/**
 * The profile-index prefixes `messagedBy` reads: one per campaign (`LEDGER#campaign:<id>:`, exact), one for every
 * journey (`LEDGER#arn:`: execution ARNs name the journey after the state machine), so a profile's many journey
 * messages never hide a campaign's.
 */
export function messagedPrefixes(senders: readonly MessageSender[]): string[] {
  const prefixes = new Set<string>();
  for (const s of senders) prefixes.add(s.journeyId.startsWith('campaign:') ? `LEDGER#${s.journeyId}:` : 'LEDGER#arn:');
  return [...prefixes].sort();
}

/**
 * `messagedBy` over the profile's ledger keys (the profile index, keys only): the keys of the wanted senders are read by
 * key until each sender is found.
 */
export async function gatherMessagedBy(
  keys: readonly { pk: string; sk: string }[],
  senders: readonly MessageSender[],
  read: (key: { pk: string; sk: string }) => Promise<Record<string, unknown> | undefined>,
): Promise<string[]> {
  const wanted = new Map(senders.map((s) => [s.journeyId, s.since]));
  const found = new Set<string>();
  for (const key of keys) {
    const sender = senderOfLedgerKey(key.pk);
    if (sender === undefined || found.has(sender)) continue;
    const since = wanted.get(sender);
    if (since !== undefined && messagedSince(await read(key), since)) found.add(sender);
    if (found.size === wanted.size) break;
  }
  return [...found].sort();
}

/** ProfileRuns on DynamoDB: prefix queries of the profile index (keys only), each bounded; enrollments read by key. */
export class DynamoProfileRuns implements ProfileRuns {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** One page of the profile index's keys under a prefix (keys only: the items are read by key afterwards). */
  private async indexKeys(
    profileId: string,
    prefix: string,
    limit: number,
    order: 'ascending' | 'descending',
    ExclusiveStartKey: Record<string, unknown> | undefined,
  ): Promise<{ keys: { pk: string; sk: string }[]; next?: Record<string, unknown> }> {
    const page = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: ProfileIndex.name,
        KeyConditionExpression: '#p = :p AND begins_with(#k, :prefix)',
        ExpressionAttributeNames: { '#p': ProfileIndex.partitionKey, '#k': ProfileIndex.sortKey },
        ExpressionAttributeValues: { ':p': profileId, ':prefix': prefix },
        ...(order === 'descending' ? { ScanIndexForward: false } : {}),
        Limit: limit,
        ExclusiveStartKey,
      }),
    );
    return { keys: (page.Items ?? []).map((item) => ({ pk: item.pk as string, sk: item.sk as string })), next: page.LastEvaluatedKey };
  }

  async list(profileId: string, options: { journeyId?: string; maxKeys: number }): Promise<{ runs: RunRef[]; truncated: boolean }> {
    const keys: { pk: string; sk: string }[] = [];
    let truncated = false;
    for (const prefix of runPrefixes(profileId, options.journeyId)) {
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const room = options.maxKeys - keys.length;
        if (room <= 0) {
          truncated = true;
          break;
        }
        const page = await this.indexKeys(profileId, prefix, room, 'ascending', ExclusiveStartKey);
        keys.push(...page.keys);
        ExclusiveStartKey = page.next;
      } while (ExclusiveStartKey);
    }
    const runs = await gatherRuns(keys, profileId, options.journeyId, async (key) => {
      const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }));
      return Item;
    });
    return { runs, truncated };
  }

  async messagedBy(profileId: string, senders: readonly MessageSender[], maxKeys: number): Promise<string[]> {
    const keys: { pk: string; sk: string }[] = [];
    for (const prefix of messagedPrefixes(senders)) {
      const start = keys.length;
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        // Descending: scheduled runs' ids sort by time, so a campaign's newest runs come first.
        const page = await this.indexKeys(profileId, prefix, maxKeys - (keys.length - start), 'descending', ExclusiveStartKey);
        keys.push(...page.keys);
        ExclusiveStartKey = page.next;
      } while (ExclusiveStartKey && keys.length - start < maxKeys);
    }
    return gatherMessagedBy(keys, senders, async (key) => {
      const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: key }));
      return Item;
    });
  }

  async messages(executionArn: string, limit: number): Promise<LedgerRecord[]> {
    const { Items } = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `LEDGER#${executionArn}` },
        Limit: limit,
        ConsistentRead: true,
      }),
    );
    return (Items ?? []) as LedgerRecord[];
  }
}
