import { awsStores } from '../adapters/aws';
import { awsExecutions } from '../adapters/aws-executions';
import { createRegisterWaitHandler } from '../app/journey-steps';

export const handler = createRegisterWaitHandler({ ...awsStores(), ...awsExecutions() });
