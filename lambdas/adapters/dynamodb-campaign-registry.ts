import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  CAMPAIGNS_PARTITION,
  campaignItem,
  fromCampaignItem,
  type CampaignDefinitionReader,
  type CampaignRegistry,
  type RegisteredCampaign,
} from '../core/campaigns/contract';

/**
 * Campaigns as deployed, in the journeys table (`campaignItem` of contract.ts: pk `CAMPAIGNS`, sk `CAMPAIGN#<id>`; CDK
 * writes the same items, the local stack `put`s them). Listing is one Query of the partition (paged until done), by id.
 */
export class DynamoCampaignRegistry implements CampaignRegistry {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    /** `parseCampaignDefinition` (the schema) or, in the router, `deployedCampaignShape`. */
    private readonly read: CampaignDefinitionReader,
  ) {}

  async list(): Promise<RegisteredCampaign[]> {
    const records: RegisteredCampaign[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :campaign)',
          ExpressionAttributeValues: { ':pk': CAMPAIGNS_PARTITION, ':campaign': 'CAMPAIGN#' },
          ExclusiveStartKey,
        }),
      );
      for (const item of page.Items ?? []) records.push(fromCampaignItem(item, this.read));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return records;
  }

  async get(campaignId: string): Promise<RegisteredCampaign | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: { pk: CAMPAIGNS_PARTITION, sk: `CAMPAIGN#${campaignId}` } }));
    return Item ? fromCampaignItem(Item, this.read) : undefined;
  }

  /** Registers a campaign (the local stack; on AWS the deployment writes the item). */
  async put(record: RegisteredCampaign): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: campaignItem(record) }));
  }
}
