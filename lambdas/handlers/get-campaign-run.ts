import { awsCampaignStores } from '../adapters/aws-campaigns';
import { createGetCampaignRunHandler } from '../app/campaigns';

export const handler = createGetCampaignRunHandler(awsCampaignStores());
