import { awsStores } from '../adapters/aws';
import { awsExecutions } from '../adapters/aws-executions';
import { awsPublisher } from '../adapters/aws-publisher';
import { createUpdateProfileAttributesHandler } from '../app/profiles';

export const handler = createUpdateProfileAttributesHandler({ ...awsStores(), ...awsExecutions(), ...awsPublisher() });
