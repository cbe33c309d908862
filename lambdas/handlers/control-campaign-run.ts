import { awsCampaignStores, campaignExecutions } from '../adapters/aws-campaigns';
import { awsExecutions } from '../adapters/aws-executions';
import { createControlCampaignRunHandler } from '../app/campaigns';

export const handler = createControlCampaignRunHandler({ ...awsCampaignStores(), executions: campaignExecutions(awsExecutions().executions) });
