import { awsStores } from '../adapters/aws';
import { awsExecutions } from '../adapters/aws-executions';
import { awsPublisher } from '../adapters/aws-publisher';
import { createRouteEventHandler } from '../app/route-event';

export const handler = createRouteEventHandler({ ...awsStores(), ...awsExecutions(), ...awsPublisher() });
