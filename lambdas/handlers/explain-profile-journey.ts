import { awsStores } from '../adapters/aws';
import { awsExecutions } from '../adapters/aws-executions';
import { createExplainProfileJourneyHandler } from '../app/why';

export const handler = createExplainProfileJourneyHandler({ ...awsStores(), ...awsExecutions() });
