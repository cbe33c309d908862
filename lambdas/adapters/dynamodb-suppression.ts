import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetItems } from './dynamodb-batch-get';
import type { SuppressionReason } from '../core/consent/policy';
import { normalizeAddress, type Suppression, type SuppressionList } from '../core/consent/ports';
import { keyedHash, localPrivacyKey, type PrivacyKey } from '../core/privacy/keys';

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException || (error as { name?: string })?.name === 'ConditionalCheckFailedException';

/**
 * The suppression list in the runtime table: one item per address, pk `SUPPRESSED#<keyed hash of the normalized
 * address>`, sk `SUPPRESSED`; the address itself is not stored (a bounce list is a list of people). No `profileId`, so
 * it stays out of the profile index: erasing a profile does not re-open its address to mail that bounced or was
 * reported as spam.
 */
export class DynamoSuppressionList implements SuppressionList {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly privacyKey: PrivacyKey = localPrivacyKey,
  ) {}

  async isSuppressed(address: string): Promise<Suppression | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: await this.key(address) }));
    return Item ? { address: normalizeAddress(address), reason: Item.reason, at: Item.at, source: Item.source } : undefined;
  }

  async areSuppressed(addresses: readonly string[]): Promise<(Suppression | undefined)[]> {
    const keys = await Promise.all(addresses.map((address) => this.key(address)));
    const items = await batchGetItems(this.db, this.table, keys);
    return items.map((Item, i) =>
      Item ? { address: normalizeAddress(addresses[i]), reason: Item.reason as SuppressionReason, at: Item.at as string, source: Item.source as string } : undefined,
    );
  }

  /** Idempotent; a complaint is never replaced by a later bounce (it says more about what the owner wants). */
  async suppress(address: string, reason: SuppressionReason, at: string, source: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: await this.key(address),
          UpdateExpression: 'SET reason = :reason, #at = :at, #source = :source, firstAt = if_not_exists(firstAt, :at)',
          ConditionExpression: 'attribute_not_exists(pk) OR reason <> :complaint OR :reason = :complaint',
          ExpressionAttributeNames: { '#at': 'at', '#source': 'source' },
          ExpressionAttributeValues: { ':reason': reason, ':at': at, ':source': source, ':complaint': 'complaint' },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  private async key(address: string) {
    return { pk: `SUPPRESSED#${keyedHash(await this.privacyKey(), 'suppressed', normalizeAddress(address))}`, sk: 'SUPPRESSED' };
  }
}
