import { awsDependencies } from '../adapters/aws';
import { createRouteEventHandler } from '../app/route-event';

export const handler = createRouteEventHandler(awsDependencies());
