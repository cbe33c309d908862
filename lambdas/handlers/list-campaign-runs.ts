import { awsCampaignStores } from '../adapters/aws-campaigns';
import { createListCampaignRunsHandler } from '../app/campaigns';

export const handler = createListCampaignRunsHandler(awsCampaignStores());
