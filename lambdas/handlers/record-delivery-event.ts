import { awsDependencies } from '../adapters/aws';
import { createRecordDeliveryEventHandler } from '../app/record-delivery-event';

export const handler = createRecordDeliveryEventHandler(awsDependencies());
