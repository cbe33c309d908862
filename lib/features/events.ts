import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { PLATFORM_SOURCE_PREFIX } from '../../lambdas/core/config/env-keys';
import { deadLetteredTarget, deadLetterQueue, Feature } from './feature';

export interface EventsFeatureProps {
  readonly eventBus: events.IEventBus;
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Events in: ingest-event (`POST /events`), the rejected events, and the router with its rule on the stage's bus
 * (every event whose source does not start with `waymark.`), each hop with retries and a dead-letter queue.
 */
export class EventsFeature extends Feature {
  /** Events EventBridge could not deliver to the router (after its retries). */
  public readonly routeEventRuleDeadLetterQueue: sqs.Queue;
  /** Router invocations that failed after Lambda's asynchronous retries. */
  public readonly routeEventFunctionDeadLetterQueue: sqs.Queue;
  /** Sends every business event (any source not starting with `waymark.`) to the router. */
  public readonly routeEventRule: events.Rule;

  constructor(scope: Construct, id: string, props: EventsFeatureProps) {
    super(scope, id, { feature: 'events', logRetention: props.logRetention });
    this.routeEventRuleDeadLetterQueue = deadLetterQueue(this, 'RouteEventRuleDeadLetterQueue');
    this.routeEventFunctionDeadLetterQueue = deadLetterQueue(this, 'RouteEventFunctionDeadLetterQueue');
    this.createFunctions({ routeEvent: { deadLetterQueue: this.routeEventFunctionDeadLetterQueue, retryAttempts: 2, maxEventAge: Duration.hours(6) } });

    this.routeEventRule = new events.Rule(this, 'RouteEventRule', {
      eventBus: props.eventBus,
      description: `Every event whose source does not start with "${PLATFORM_SOURCE_PREFIX}" goes to the route-event function`,
      eventPattern: { source: events.Match.anythingButPrefix(PLATFORM_SOURCE_PREFIX) },
    });
    this.routeEventRule.addTarget(
      deadLetteredTarget(this.fn('routeEvent').function, this.routeEventRuleDeadLetterQueue),
    );
  }
}
