import type { AslDefinition } from '../journey/asl';
import type { Campaign } from './schema';

/** Options the deployment gives the compiler (the local stack passes the same). */
export interface CampaignCompileOptions {
  /** Members per Distributed Map child (ItemBatcher MaxItemsPerBatch); default 100. */
  batchSize?: number;
}

/**
 * Compiles a validated campaign into the Standard state machine that runs one campaign run (layout in
 * lambdas/core/campaigns/README.md and contract.ts). CONTRACT STUB: the compiler is being written; until then this
 * throws, so nothing can deploy or run a campaign by accident.
 */
export function compileCampaign(campaign: Campaign, options: CampaignCompileOptions = {}): AslDefinition {
  void options;
  throw new Error(`campaign "${campaign.id}": the campaign compiler is not written yet`);
}
