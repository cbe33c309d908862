import { PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type {
  CampaignConversion,
  CampaignConversionStore,
  CampaignDelivery,
  CampaignGoalWindow,
  CampaignWindowKey,
} from '../core/campaigns/conversions';
import type { LedgerStatus } from '../core/runtime/ports';
import { convertGoalWindow, goalWindowBound, goalWindowExpiry, queryOpenGoalWindows } from './dynamodb-conversions';

const isConditionFailure = (error: unknown) =>
  (error as { name?: string } | null)?.name === 'ConditionalCheckFailedException';

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
/** Kept a day past its window (TTL `expiresAt`), as the journeys' windows; TTL deletes late, so reads check `until`. */
export const campaignGoalExpiry = goalWindowExpiry;
/** The upper bound of the sort keys of windows opened at or before `at` (`~` sorts after `#`), as the journeys'. */
export const campaignGoalBound = goalWindowBound;

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
    const items = await queryOpenGoalWindows(this.db, this.table, `${CAMPAIGN_GOAL_PREFIX}${profileId}`, goalEvent, at, limit);
    return items.map(toCampaignGoalWindow);
  }

  async convert(window: CampaignGoalWindow, conversion: CampaignConversion): Promise<boolean> {
    return convertGoalWindow(this.db, this.table, campaignGoalKey(window), conversion);
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
