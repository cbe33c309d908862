import { awsStores } from '../adapters/aws';
import { awsCampaignStores } from '../adapters/aws-campaigns';
import { createRecordDeliveryEventHandler } from '../app/record-delivery-event';

const stores = awsStores();
// Campaign messages' engagement is counted on their run (runtime table, like the ledger).
export const handler = createRecordDeliveryEventHandler({ ...stores, campaignRuns: awsCampaignStores().runs });
