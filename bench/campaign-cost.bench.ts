import { campaignCost } from '../lambdas/core/campaigns/cost';
import { compileForDeploy, loadCampaigns } from '../lib/campaigns';
import { withBaseline, type Benchmark, type Figure } from './types';

/** Issue 14's aim: at most $5 of orchestration (Step Functions, Lambda, S3) per million recipients. */
const AIM_USD_PER_MILLION = 5;

/**
 * The orchestration cost per million recipients of each shipped campaign (campaigns/*.json), from its definition as
 * deployed (lambdas/core/campaigns/cost.ts, the same figures as `npx waymark cost campaigns/<file>`); baseline: the aim,
 * so a ratio above 1 misses it.
 */
export const campaignCostBench: Benchmark = {
  name: 'campaign-cost',
  async run() {
    const figures: Figure[] = [];
    for (const { campaign } of loadCampaigns()) {
      const cost = campaignCost(campaign, compileForDeploy(campaign), { recipients: 1_000_000 });
      figures.push(
        withBaseline({
          name: `campaign-cost/${campaign.id}/usd-per-million-recipients`,
          value: Number(cost.usdPerMillion.toFixed(2)),
          unit: 'USD',
          baseline: AIM_USD_PER_MILLION,
          note:
            `Step Functions $${cost.stepFunctions.usd.toFixed(2)} (${cost.stepFunctions.childExecutions} child executions), ` +
            `Lambda $${cost.lambda.usd.toFixed(2)}, S3 $${cost.s3.usd.toFixed(2)}; batches of ${cost.batchSize}; baseline: the $5 aim`,
        }),
      );
    }
    return figures;
  },
};
