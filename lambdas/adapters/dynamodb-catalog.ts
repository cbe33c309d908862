import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CatalogRecord, CatalogStore } from '../core/decisions/ports';

/**
 * Definitions managed through files and the API, in the journeys table:
 *
 * | item      | pk           | sk                 | attributes |
 * |-----------|--------------|--------------------|------------|
 * | segment   | `SEGMENTS`   | `SEGMENT#<id>`     | definition (JSON string), origin, version, updatedAt |
 * | offer     | `OFFERS`     | `OFFER#<id>`       | the same |
 * | placement | `PLACEMENTS` | `PLACEMENT#<id>`   | the same |
 * | rule      | `RULES`      | `RULE#<id>`        | the same (governance rules, dynamodb-rules.ts) |
 *
 * Definitions are JSON strings, not maps: a deeply nested rule would otherwise count against DynamoDB's 32 levels of
 * map nesting. CDK writes the file entries in the same shape at deploy time.
 */

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException || (error as { name?: string })?.name === 'ConditionalCheckFailedException';

export type CatalogKind = 'SEGMENT' | 'OFFER' | 'PLACEMENT' | 'RULE';

/** Segments, offers, placements or rules in the journeys table, one partition per kind (listing them is one Query). */
export class DynamoCatalogStore<T extends { id: string }> implements CatalogStore<T> {
  private readonly pk: string;
  private readonly skPrefix: string;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    readonly kind: CatalogKind,
  ) {
    this.pk = `${kind}S`;
    this.skPrefix = `${kind}#`;
  }

  async list(): Promise<CatalogRecord<T>[]> {
    const records: CatalogRecord<T>[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': this.pk, ':prefix': this.skPrefix },
          ConsistentRead: true,
          ExclusiveStartKey,
        }),
      );
      for (const item of page.Items ?? []) records.push(fromCatalogItem<T>(item));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return records;
  }

  async get(id: string): Promise<CatalogRecord<T> | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: this.key(id), ConsistentRead: true }));
    return Item ? fromCatalogItem<T>(Item) : undefined;
  }

  async put(record: CatalogRecord<T>, condition: { expectedVersion?: number; force?: boolean }): Promise<boolean> {
    const Item = {
      ...this.key(record.definition.id),
      definition: JSON.stringify(record.definition),
      origin: record.origin,
      version: record.version,
      updatedAt: record.updatedAt,
    };
    const guard = condition.force
      ? {}
      : condition.expectedVersion === undefined
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': condition.expectedVersion } };
    try {
      await this.db.send(new PutCommand({ TableName: this.table, Item, ...guard }));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async delete(id: string): Promise<boolean> {
    try {
      await this.db.send(new DeleteCommand({ TableName: this.table, Key: this.key(id), ConditionExpression: 'attribute_exists(pk)' }));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  private key(id: string) {
    return { pk: this.pk, sk: `${this.skPrefix}${id}` };
  }
}

/** A catalog record from its item (shared with the in-memory catalog store, which keeps the same items). */
export function fromCatalogItem<T>(item: Record<string, unknown>): CatalogRecord<T> {
  return {
    definition: JSON.parse(item.definition as string) as T,
    origin: item.origin as CatalogRecord<T>['origin'],
    version: Number(item.version),
    updatedAt: item.updatedAt as string,
  };
}
