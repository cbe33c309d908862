import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Rule } from '../core/governance/rules';
import { catalogRuleStore, type RuleStore } from '../core/governance/store';
import { DynamoCatalogStore } from './dynamodb-catalog';

/**
 * Governance rules in the journeys table, as segments and offers are kept (dynamodb-catalog.ts): pk `RULES`, sk
 * `RULE#<id>`, the definition as a JSON string, origin (`file` | `api`), version, updatedAt. Listing them is one
 * consistent Query of one partition; writes are conditional puts (absent, or at the version read).
 */
export function dynamoRuleStore(db: DynamoDBDocumentClient, journeysTable: string): RuleStore {
  return catalogRuleStore(new DynamoCatalogStore<Rule>(db, journeysTable, 'RULE'));
}
