import { awsStores } from '../adapters/aws';
import { awsCampaignStores } from '../adapters/aws-campaigns';
import { awsExecutions } from '../adapters/aws-executions';
import { awsPublisher } from '../adapters/aws-publisher';
import { createRouteEventHandler } from '../app/route-event';
import { cachedCampaignGoals } from '../core/campaigns/conversions';

const stores = awsStores();
const campaigns = awsCampaignStores();
// Campaign goal conversions: the deployed campaigns' goal events (read at most every 30 s), their runs' counters.
const campaignGoals = {
  goals: cachedCampaignGoals(campaigns.registry, campaigns.clock),
  store: stores.campaignConversions,
  runs: campaigns.runs,
};

export const handler = createRouteEventHandler({ ...stores, ...awsExecutions(), ...awsPublisher(), campaignGoals });
