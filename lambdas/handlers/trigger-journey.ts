import { awsStores } from '../adapters/aws';
import { awsExecutions } from '../adapters/aws-executions';
import { createTriggerJourneyHandler } from '../app/trigger-journey';

export const handler = createTriggerJourneyHandler({ ...awsStores(), ...awsExecutions() });
