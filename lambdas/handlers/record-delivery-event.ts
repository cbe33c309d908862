import { awsStores } from '../adapters/aws';
import { createRecordDeliveryEventHandler } from '../app/record-delivery-event';

export const handler = createRecordDeliveryEventHandler(awsStores());
