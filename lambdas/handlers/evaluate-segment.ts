import { awsStores } from '../adapters/aws';
import { awsExecutions } from '../adapters/aws-executions';
import { createEvaluateSegmentHandler } from '../app/segments';

export const handler = createEvaluateSegmentHandler({ ...awsStores(), ...awsExecutions() });
