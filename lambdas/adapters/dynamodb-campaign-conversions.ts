import { PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type {
  CampaignConversion,
  CampaignConversionStore,
  CampaignDelivery,
  CampaignGoalWindow,
  CampaignWindowKey,
} from '../core/campaigns/conversions';
import type { LedgerStatus } from '../core/runtime/ports';

const isConditionFailure = (error: unknown) =>
  (error as { name?: string } | null)?.name === 'ConditionalCheckFailedException';

const DAY = 86400;
/** Windows written at once by `open` (one audience page: hundreds of conditional puts). */
const OPEN_CONCURRENCY = 16;

export const CAMPAIGN_GOAL_PREFIX = 'CAMPAIGN_GOAL#';

type WindowKeyParts = CampaignWindowKey;

/**
 * `CAMPAIGN_GOAL#<profile>` / `<goal event>#<run start>#<campaign>#<run>`: a profile's campaign windows per goal
 * event, oldest first (campaign ids are kebab-case and run ids have no `#`, so the key is one-to-one).
 */
export const campaignGoalKey = (w: WindowKeyParts) => ({
  pk: `${CAMPAIGN_GOAL_PREFIX}${w.profileId}`,
  sk: `${w.goal.event}#${w.openedAt}#${w.campaignId}#${w.runId}`,
});
/** Kept a day past its window (TTL `expiresAt`); TTL deletes late, so reads check `until` too. */
export const campaignGoalExpiry = (w: Pick<CampaignGoalWindow, 'until'>) =>
  Math.floor(Date.parse(w.until) / 1000) + DAY;
/** The upper bound of the sort keys of windows opened at or before `at` (`~` sorts after `#`). */
export const campaignGoalBound = (goalEvent: string, at: string) => `${goalEvent}#${at}~`;

export function toCampaignGoalWindow(item: Record<string, unknown>): CampaignGoalWindow {
  const { campaignId, runId, profileId, goal, openedAt, until, group, branches } = item as unknown as
    CampaignGoalWindow;
  return { campaignId, runId, profileId, goal, openedAt, until, group, branches: { ...(branches ?? {}) } };
}

export function campaignGoalItem(window: CampaignGoalWindow): Record<string, unknown> {
  const expiresAt = campaignGoalExpiry(window);
  return { ...campaignGoalKey(window), ...window, branches: { ...window.branches }, expiresAt };
}

/** The deliveries of a member's ledger items (`LEDGER#campaign:<c>:<r>:<profile>`, sk the node id). */
export function toDeliveries(items: readonly Record<string, unknown>[]): CampaignDelivery[] {
  return items
    .filter((i) => typeof i.nodeId === 'string' && typeof i.status === 'string' && typeof i.preparedAt === 'string')
    .map((i) => ({ nodeId: i.nodeId as string, status: i.status as LedgerStatus, preparedAt: i.preparedAt as string }));
}

async function eachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Campaign conversion windows in the runtime table (`profileId` puts them in the byProfile index). */
export class DynamoCampaignConversionStore implements CampaignConversionStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async open(windows: readonly CampaignGoalWindow[]): Promise<void> {
    // One conditional PutItem each, not BatchWriteItem: a batch put overwrites an existing item
    // (https://docs.aws.amazon.com/AWSJavaScriptSDK/v3/latest/client/dynamodb/command/BatchWriteItemCommand), and a
    // retried page must not erase a conversion or a split's branch recorded meanwhile.
    await eachLimit(windows, OPEN_CONCURRENCY, async (window) => {
      try {
        await this.db.send(
          new PutCommand({
            TableName: this.table,
            Item: campaignGoalItem(window),
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    });
  }

  async assign(window: WindowKeyParts, split: string, branch: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: campaignGoalKey(window),
          UpdateExpression: 'SET branches.#split = :branch',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#split': split },
          ExpressionAttributeValues: { ':branch': branch },
        }),
      );
    } catch (error) {
      // No window: the run's audience was read without a goal (the campaign gained one mid-run).
      if (!isConditionFailure(error)) throw error;
    }
  }

  async openAt(profileId: string, goalEvent: string, at: string, limit: number): Promise<CampaignGoalWindow[]> {
    const { Items } = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        // Newest runs first; Limit bounds the items read, the filter drops windows already closed.
        FilterExpression: '#until >= :at',
        ExpressionAttributeNames: { '#until': 'until' },
        ExpressionAttributeValues: {
          ':pk': `${CAMPAIGN_GOAL_PREFIX}${profileId}`,
          ':from': `${goalEvent}#`,
          ':to': campaignGoalBound(goalEvent, at),
          ':at': at,
        },
        ScanIndexForward: false,
        Limit: limit,
        ConsistentRead: true,
      }),
    );
    return (Items ?? []).map(toCampaignGoalWindow);
  }

  async convert(window: CampaignGoalWindow, conversion: CampaignConversion): Promise<boolean> {
    const { revenue } = conversion;
    const worth = revenue === undefined ? '' : ', revenue = :revenue';
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: campaignGoalKey(window),
          UpdateExpression: `SET convertedAt = :at, conversionEventId = :event${worth}`,
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(convertedAt)',
          ExpressionAttributeValues: {
            ':at': conversion.at,
            ':event': conversion.eventId,
            ...(revenue === undefined ? {} : { ':revenue': revenue }),
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async deliveries(executionId: string): Promise<CampaignDelivery[]> {
    const items: Record<string, unknown>[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    // A member has at most 50 steps × 50 forEach items of a run: a page or a few.
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `LEDGER#${executionId}` },
          ProjectionExpression: 'nodeId, #status, preparedAt',
          ExpressionAttributeNames: { '#status': 'status' },
          ConsistentRead: true,
          ExclusiveStartKey,
        }),
      );
      items.push(...(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return toDeliveries(items);
  }
}
