import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { systemClock, type EventPublisher } from '../core/runtime/ports';
import { EnvKey } from '../core/config/env-keys';
import { loadEnv, MissingEnvironmentError } from '../shared/env';
import { traced } from '../shared/powertools';
import { EventBridgePublisher } from './eventbridge';

/** The EventBridge publisher, for the handlers that put events on the bus. */
export function awsPublisher() {
  const env = loadEnv();
  let bus: EventBridgePublisher | undefined;
  const getPublisher = () => {
    if (!env.eventBusName) throw new MissingEnvironmentError(EnvKey.eventBusName);
    bus ??= new EventBridgePublisher(traced(new EventBridgeClient({})), env.eventBusName);
    return bus;
  };
  // Built on first use (only the functions that publish have the bus name); a plain object that delegates.
  const publisher = { publish: async (events) => getPublisher().publish(events) } satisfies EventPublisher;
  return { clock: systemClock, publisher };
}
