import { awsStores } from '../adapters/aws';
import { awsExecutions } from '../adapters/aws-executions';
import { createEraseProfileHandler } from '../app/profiles';

export const handler = createEraseProfileHandler({ ...awsStores(), ...awsExecutions() });
