import { awsStores } from '../adapters/aws';
import { createDecideStepHandler } from '../app/journey-steps';

export const handler = createDecideStepHandler(awsStores());
