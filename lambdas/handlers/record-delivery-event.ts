import { awsStores } from '../adapters/aws';
import { createRecordDeliveryEventHandler } from '../app/record-delivery-event';

const stores = awsStores();
export const handler = createRecordDeliveryEventHandler(stores);
