import { awsStores } from '../adapters/aws';
import { createLoadProfileHandler } from '../app/journey-steps';

export const handler = createLoadProfileHandler(awsStores());
