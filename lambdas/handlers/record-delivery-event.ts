import { awsStores } from '../adapters/aws';
import { createRecordDeliveryEventHandler } from '../app/record-delivery-event';

const stores = awsStores();
// counters: the DynamoDB JourneyCounters adapter (issue 12, item 8) is passed here once it exists; until then the
// handler records and suppresses but counts nothing (and says so in its log).
export const handler = createRecordDeliveryEventHandler({ ...stores, counters: null });
