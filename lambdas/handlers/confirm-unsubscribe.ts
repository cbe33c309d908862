import { awsDependencies } from '../adapters/aws';
import { createConfirmUnsubscribeHandler } from '../app/consent';

export const handler = createConfirmUnsubscribeHandler(awsDependencies());
