import { awsCampaignStores } from '../adapters/aws-campaigns';
import { createGetCampaignHandler } from '../app/campaigns';

export const handler = createGetCampaignHandler(awsCampaignStores());
