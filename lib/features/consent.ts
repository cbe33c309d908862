import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as ses from 'aws-cdk-lib/aws-ses';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { SES_DELIVERY_EVENT_PATTERN } from '../../lambdas/core/consent/ses-events';
import { SMS_CONTEXT, SMS_STATUS_EVENT_PATTERN } from '../../lambdas/core/engagement/sms-events';
import { deadLetteredTarget, deadLetterQueue, Feature } from './feature';

export interface ConsentFeatureProps {
  readonly stage: string;
  /** The stage's configuration set: its bounces and complaints, and only those, reach record-delivery-event. */
  readonly emailConfigurationSet: ses.ConfigurationSet;
  /** The stage's End User Messaging SMS configuration set: its messages' status events, and only those, are recorded. */
  readonly smsConfigurationSetName: string;
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Consent: per channel and list (`/profiles/{id}/consent`), the public one-click unsubscribe, and the suppression list
 * fed by SES bounces and complaints (default bus) through record-delivery-event, with its dead-letter queues; the
 * same function records the SMS status events of the stage.
 */
export class ConsentFeature extends Feature {
  public readonly deliveryEventRule: events.Rule;
  /** The stage's SMS status events (default bus) → record-delivery-event (bus rule `sms-delivery-events`). */
  public readonly smsStatusRule: events.Rule;
  public readonly deliveryEventRuleDeadLetterQueue: sqs.Queue;
  public readonly deliveryEventFunctionDeadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: ConsentFeatureProps) {
    super(scope, id, { feature: 'consent', logRetention: props.logRetention });
    this.deliveryEventRuleDeadLetterQueue = deadLetterQueue(this, 'DeliveryEventRuleDeadLetterQueue');
    this.deliveryEventFunctionDeadLetterQueue = deadLetterQueue(this, 'DeliveryEventFunctionDeadLetterQueue');
    this.createFunctions({
      recordDeliveryEvent: { deadLetterQueue: this.deliveryEventFunctionDeadLetterQueue, retryAttempts: 2, maxEventAge: Duration.hours(6) },
    });

    // SES publishes configuration-set events to the account's default bus only
    // (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-ses-configurationseteventdestination-eventbridgedestination.html),
    // so the rule matches this stage's configuration set, which every event names in mail.tags
    // (https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-examples.html): a stage never
    // suppresses an address because of another stage's (or another application's) mail.
    const defaultBus = events.EventBus.fromEventBusName(this, 'DefaultEventBus', 'default');
    props.emailConfigurationSet.addEventDestination('DeliveryEventsToEventBridge', {
      destination: ses.EventDestination.eventBus(defaultBus),
      // The SES v2 event types (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_EventDestination.html).
      events: (['SEND', 'DELIVERY', 'BOUNCE', 'COMPLAINT', 'REJECT', 'OPEN', 'CLICK', 'RENDERING_FAILURE'] as const).map((e) => ses.EmailSendingEvent[e]),
    });
    this.deliveryEventRule = new events.Rule(this, 'DeliveryEventRule', {
      eventBus: defaultBus,
      description: `SES email events of the Waymark ${props.stage} configuration set go to record-delivery-event (suppression list, engagement)`,
      eventPattern: {
        ...(SES_DELIVERY_EVENT_PATTERN as events.EventPattern),
        detail: { mail: { tags: { 'ses:configuration-set': [props.emailConfigurationSet.configurationSetName] } } },
      },
    });
    this.deliveryEventRule.addTarget(
      deadLetteredTarget(this.fn('recordDeliveryEvent').function, this.deliveryEventRuleDeadLetterQueue),
    );

    // End User Messaging SMS puts its status events on the default bus by itself; none names the configuration set,
    // so every journey SMS carries it in its context (https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-sms-voice.html).
    // Same function and dead-letter queue as the SES rule.
    this.smsStatusRule = new events.Rule(this, 'SmsStatusRule', {
      eventBus: defaultBus,
      description: `SMS status events of the Waymark ${props.stage} configuration set go to record-delivery-event (delivered, undelivered)`,
      eventPattern: {
        ...(SMS_STATUS_EVENT_PATTERN as events.EventPattern),
        detail: { context: { [SMS_CONTEXT.configurationSet]: [props.smsConfigurationSetName] } },
      },
    });
    this.smsStatusRule.addTarget(deadLetteredTarget(this.fn('recordDeliveryEvent').function, this.deliveryEventRuleDeadLetterQueue));
  }
}
