import { awsStores } from '../adapters/aws';
import { awsExecutions } from '../adapters/aws-executions';
import { awsPublisher } from '../adapters/aws-publisher';
import { createScanProfilesHandler } from '../app/segments';

export const handler = createScanProfilesHandler({ ...awsStores(), ...awsExecutions(), ...awsPublisher() });
