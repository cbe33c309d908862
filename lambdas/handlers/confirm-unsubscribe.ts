import { awsUnsubscribe } from '../adapters/aws-secrets';
import { createConfirmUnsubscribeHandler } from '../app/consent';
import { systemClock } from '../core/runtime/ports';
import { loadEnv } from '../shared/env';

// Checks the signed link only: no table, so no DynamoDB client in this bundle.
export const handler = createConfirmUnsubscribeHandler({ clock: systemClock, getSecret: awsUnsubscribe(loadEnv()).getSecret });
