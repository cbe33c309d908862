import { awsCampaignStores, campaignExecutions } from '../adapters/aws-campaigns';
import { awsExecutions } from '../adapters/aws-executions';
import { createStartCampaignRunHandler } from '../app/campaigns';

export const handler = createStartCampaignRunHandler({ ...awsCampaignStores(), executions: campaignExecutions(awsExecutions().executions) });
