import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ConsentStore, SetConsentOutcome } from '../core/consent/ports';
import type { Clock, ConsentRecord } from '../core/runtime/ports';

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException || (error as { name?: string })?.name === 'ConditionalCheckFailedException';

const MAX_HOPS = 64;

/**
 * Consent written straight into the profile item of the profiles table (pk `PROFILE#<id>`, sk `PROFILE`), in the
 * layout the profile storage reads (lambdas/adapters/dynamodb-profiles.ts): one top-level attribute `k#<key>` =
 * {status, at, source}. One conditional UpdateItem, only when newer than the held record (later `at`; at the same
 * time, opted-out wins, as in the merge policy). It bumps `version`, so a read-modify-write of the same profile in
 * flight fails its version check and re-reads instead of putting the old consent back. A merged (or merging) profile
 * is followed to its survivor.
 */
export class DynamoConsentStore implements ConsentStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly clock: Clock,
  ) {}

  async setConsent(profileId: string, key: string, record: ConsentRecord): Promise<SetConsentOutcome> {
    const held = { ...record, at: new Date(record.at).toISOString() };
    let id = profileId;
    for (let hops = 0; hops < MAX_HOPS; hops++) {
      try {
        await this.db.send(
          new UpdateCommand({
            TableName: this.table,
            Key: profileKey(id),
            UpdateExpression: 'SET #k = :record, updatedAt = :now ADD version :one',
            ConditionExpression: `#status = :active AND (attribute_not_exists(#k) OR #k.#at < :at${held.status === 'opted-out' ? ' OR (#k.#at = :at AND #k.#status = :in)' : ''})`,
            ExpressionAttributeNames: { '#k': `k#${key}`, '#status': 'status', '#at': 'at' },
            ExpressionAttributeValues: {
              ':record': held,
              ':now': this.clock.now().toISOString(),
              ':one': 1,
              ':active': 'active',
              ':at': held.at,
              ...(held.status === 'opted-out' ? { ':in': 'opted-in' } : {}),
            },
          }),
        );
        return 'updated';
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      const { Item } = await this.db.send(
        new GetCommand({ TableName: this.table, Key: profileKey(id), ConsistentRead: true, ProjectionExpression: '#status, mergedInto', ExpressionAttributeNames: { '#status': 'status' } }),
      );
      if (!Item) return 'not-found';
      if (Item.status === 'active') return 'unchanged';
      if (typeof Item.mergedInto !== 'string') return 'not-found';
      id = Item.mergedInto;
    }
    throw new Error(`profile ${profileId}: merge chain longer than ${MAX_HOPS}`);
  }
}

const profileKey = (profileId: string) => ({ pk: `PROFILE#${profileId}`, sk: 'PROFILE' });
