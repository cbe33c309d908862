import { goalWindowBound, goalWindowExpiry, goalWindowKey, toGoalWindow } from '../../adapters/dynamodb-conversions';
import type { Conversion, ConversionStore, GoalWindow } from '../../core/measure/conversions';
import type { MemoryTable } from './table';

/** DynamoConversionStore over the in-memory runtime table: the same items, keys, bounds and conditions. */
export class MemoryConversionStore implements ConversionStore {
  constructor(private readonly table: MemoryTable) {}

  async open(window: GoalWindow): Promise<void> {
    this.table.put({ ...goalWindowKey(window), ...window, expiresAt: goalWindowExpiry(window) });
  }

  async openAt(profileId: string, goalEvent: string, at: string, limit: number): Promise<GoalWindow[]> {
    const bound = goalWindowBound(goalEvent, at);
    // Query newest first under the bound, Limit items read, then the filter (as DynamoDB applies them).
    const options = { prefix: `${goalEvent}#`, descending: true, exclusiveStart: bound, limit };
    const read = this.table.query(`GOAL#${profileId}`, options);
    return read.filter((item) => typeof item.until === 'string' && item.until >= at).map(toGoalWindow);
  }

  async convert(window: GoalWindow, conversion: Conversion): Promise<boolean> {
    const key = goalWindowKey(window);
    const item = this.table.get(key);
    if (!item || item.convertedAt !== undefined) return false;
    const revenue = conversion.revenue === undefined ? {} : { revenue: conversion.revenue };
    this.table.put({ ...item, convertedAt: conversion.at, conversionEventId: conversion.eventId, ...revenue, ...key });
    return true;
  }

  async clickedBefore(executionId: string, at: string): Promise<boolean> {
    return this.table.query(`LEDGER#${executionId}`).some((item) => typeof item.clickedAt === 'string' && item.clickedAt <= at);
  }
}
