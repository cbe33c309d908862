import { awsStores } from '../adapters/aws';
import { awsExecutions } from '../adapters/aws-executions';
import { createListProfileJourneysHandler } from '../app/why';

export const handler = createListProfileJourneysHandler({ ...awsStores(), ...awsExecutions() });
