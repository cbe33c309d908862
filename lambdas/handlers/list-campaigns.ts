import { awsCampaignStores } from '../adapters/aws-campaigns';
import { createListCampaignsHandler } from '../app/campaigns';

export const handler = createListCampaignsHandler(awsCampaignStores());
