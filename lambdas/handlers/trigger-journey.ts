import { awsDependencies } from '../adapters/aws';
import { createTriggerJourneyHandler } from '../app/trigger-journey';

export const handler = createTriggerJourneyHandler(awsDependencies());
