import { awsDependencies } from '../adapters/aws';
import { createRegisterWaitHandler } from '../app/journey-steps';

export const handler = createRegisterWaitHandler(awsDependencies());
