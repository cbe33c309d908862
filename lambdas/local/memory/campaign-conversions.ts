import {
  CAMPAIGN_GOAL_PREFIX,
  campaignGoalBound,
  campaignGoalItem,
  campaignGoalKey,
  toCampaignGoalWindow,
  toDeliveries,
} from '../../adapters/dynamodb-campaign-conversions';
import type {
  CampaignConversion,
  CampaignConversionStore,
  CampaignDelivery,
  CampaignGoalWindow,
} from '../../core/campaigns/conversions';
import type { MemoryTable } from './table';

/** DynamoCampaignConversionStore over the in-memory runtime table: the same items, keys, bounds and conditions. */
export class MemoryCampaignConversionStore implements CampaignConversionStore {
  constructor(private readonly table: MemoryTable) {}

  async open(windows: readonly CampaignGoalWindow[]): Promise<void> {
    for (const window of windows) {
      if (!this.table.get(campaignGoalKey(window))) this.table.put(campaignGoalItem(window));
    }
  }

  async assign(window: Parameters<CampaignConversionStore['assign']>[0], split: string, branch: string): Promise<void> {
    const key = campaignGoalKey(window);
    const item = this.table.get(key);
    if (!item) return;
    const branches = { ...(item.branches as Record<string, string>), [split]: branch };
    this.table.put({ ...item, branches, ...key });
  }

  async openAt(profileId: string, goalEvent: string, at: string, limit: number): Promise<CampaignGoalWindow[]> {
    // Query newest first under the bound, Limit items read, then the filter (as DynamoDB applies them).
    const exclusiveStart = campaignGoalBound(goalEvent, at);
    const options = { prefix: `${goalEvent}#`, descending: true, exclusiveStart, limit };
    const read = this.table.query(`${CAMPAIGN_GOAL_PREFIX}${profileId}`, options);
    return read.filter((item) => typeof item.until === 'string' && item.until >= at).map(toCampaignGoalWindow);
  }

  async convert(window: CampaignGoalWindow, conversion: CampaignConversion): Promise<boolean> {
    const key = campaignGoalKey(window);
    const item = this.table.get(key);
    if (!item || item.convertedAt !== undefined) return false;
    const revenue = conversion.revenue === undefined ? {} : { revenue: conversion.revenue };
    this.table.put({ ...item, convertedAt: conversion.at, conversionEventId: conversion.eventId, ...revenue, ...key });
    return true;
  }

  async deliveries(executionId: string): Promise<CampaignDelivery[]> {
    return toDeliveries(this.table.query(`LEDGER#${executionId}`));
  }
}
