import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Conversion, ConversionStore, GoalWindow } from '../core/measure/conversions';

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException || (error as { name?: string })?.name === 'ConditionalCheckFailedException';

const DAY = 86400;

/** `GOAL#<profile>` / `<goal event>#<entered at>#<execution>`: a profile's windows per goal event, oldest first. */
export const goalWindowKey = (w: Pick<GoalWindow, 'profileId' | 'goal' | 'enteredAt' | 'executionId'>) => ({
  pk: `GOAL#${w.profileId}`,
  sk: `${w.goal.event}#${w.enteredAt}#${w.executionId}`,
});
/** Kept a day past its window (TTL `expiresAt`); TTL deletes late, so reads check `until` too. */
export const goalWindowExpiry = (w: Pick<GoalWindow, 'until'>) => Math.floor(Date.parse(w.until) / 1000) + DAY;
/** The upper bound of the sort keys of windows entered at or before `at` (`~` sorts after `#`). */
export const goalWindowBound = (goalEvent: string, at: string) => `${goalEvent}#${at}~`;

export function toGoalWindow(item: Record<string, unknown>): GoalWindow {
  const { journeyId, profileId, executionId, goal, enteredAt, until, holdout, variants } = item as unknown as GoalWindow;
  return { journeyId, profileId, executionId, goal, enteredAt, until, holdout, variants: { ...variants } };
}

/** Conversion windows in the runtime table (`profileId` puts them in the byProfile index: erasure finds them). */
/**
 * The goal windows of one partition (a profile's journey or campaign windows) for one goal event, opened at or before
 * `at` and still open at it, newest first: `Limit` bounds the items read, the filter drops windows already closed.
 */
export async function queryOpenGoalWindows(
  db: DynamoDBDocumentClient,
  table: string,
  pk: string,
  goalEvent: string,
  at: string,
  limit: number,
): Promise<Record<string, unknown>[]> {
  const { Items } = await db.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      FilterExpression: '#until >= :at',
      ExpressionAttributeNames: { '#until': 'until' },
      ExpressionAttributeValues: { ':pk': pk, ':from': `${goalEvent}#`, ':to': goalWindowBound(goalEvent, at), ':at': at },
      ScanIndexForward: false,
      Limit: limit,
      ConsistentRead: true,
    }),
  );
  return Items ?? [];
}

/** Marks a window converted (with its revenue); false when it already was or is gone: one conversion per window. */
export async function convertGoalWindow(
  db: DynamoDBDocumentClient,
  table: string,
  key: { pk: string; sk: string },
  conversion: Pick<Conversion, 'at' | 'eventId' | 'revenue'>,
): Promise<boolean> {
  const { revenue } = conversion;
  try {
    await db.send(
      new UpdateCommand({
        TableName: table,
        Key: key,
        UpdateExpression: `SET convertedAt = :at, conversionEventId = :event${revenue === undefined ? '' : ', revenue = :revenue'}`,
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(convertedAt)',
        ExpressionAttributeValues: { ':at': conversion.at, ':event': conversion.eventId, ...(revenue === undefined ? {} : { ':revenue': revenue }) },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

export class DynamoConversionStore implements ConversionStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async open(window: GoalWindow): Promise<void> {
    const item = { ...goalWindowKey(window), ...window, expiresAt: goalWindowExpiry(window) };
    await this.db.send(new PutCommand({ TableName: this.table, Item: item }));
  }

  async openAt(profileId: string, goalEvent: string, at: string, limit: number): Promise<GoalWindow[]> {
    return (await queryOpenGoalWindows(this.db, this.table, `GOAL#${profileId}`, goalEvent, at, limit)).map(toGoalWindow);
  }

  async convert(window: GoalWindow, conversion: Conversion): Promise<boolean> {
    return convertGoalWindow(this.db, this.table, goalWindowKey(window), conversion);
  }

  async clickedBefore(executionId: string, at: string): Promise<boolean> {
    const { Items } = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk',
        FilterExpression: 'clickedAt <= :at',
        ExpressionAttributeValues: { ':pk': `LEDGER#${executionId}`, ':at': at },
        ProjectionExpression: 'pk',
        ConsistentRead: true,
      }),
    );
    return (Items ?? []).length > 0;
  }
}
