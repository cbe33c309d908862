import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ProfileConsentStore } from '../core/consent/profile-consent-store';
import type { Clock } from '../core/runtime/ports';
import { DynamoProfileStorage } from './dynamodb-profiles';

/**
 * Consent written into the profile item of the profiles table (`k#<key>` = {status, at, source, via, history}, the
 * layout of lambdas/adapters/dynamodb-profiles.ts): one consistent read and one put conditional on `version` and
 * `active`, so a read-modify-write of the same profile in flight fails its version check and re-reads instead of
 * putting the old consent back. A merged (or merging) profile is followed to its survivor.
 */
export class DynamoConsentStore extends ProfileConsentStore {
  constructor(db: DynamoDBDocumentClient, table: string, clock: Clock) {
    super(new DynamoProfileStorage(db, table, clock), clock);
  }
}
