import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as ses from 'aws-cdk-lib/aws-ses';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { DELIVERY_METRIC } from '../../lambdas/core/journey';
import type { JourneyStateMachine } from '../constructs/journey-state-machine';
import type { DeployedCampaign } from '../campaigns';
import { CampaignsMonitoringStack } from '../constructs/campaigns-monitoring';
import { OperationsDashboard } from '../constructs/operations-dashboard';
import { StackPart } from './feature';

/** A dead-letter queue to watch: its alarm's construct id, its label on the dashboard, and what it holds. */
export interface WatchedQueue {
  readonly alarmId: string;
  readonly label: string;
  readonly queue: sqs.IQueue;
  readonly holds: string;
}

export interface MonitoringProps {
  readonly stage: string;
  /** @default - no subscription */
  readonly alarmEmail?: string;
  /** `Waymark/<stage>`, where journeys put `Deliveries` per outcome and channel. */
  readonly deliveryMetricsNamespace: string;
  readonly emailConfigurationSet: ses.IConfigurationSet;
  readonly deadLetterQueues: readonly WatchedQueue[];
  readonly journeys: readonly JourneyStateMachine[];
  readonly audienceScan: sfn.IStateMachine;
  readonly routeEvent: lambda.IFunction;
  /** The deployed campaigns: their alarms and dashboard go to the `CampaignsMonitoring` nested stack. @default none */
  readonly campaigns?: readonly DeployedCampaign[];
}

/**
 * What tells an operator something is wrong: alarms on every dead-letter queue, failed journey and audience-scan
 * executions, router errors and the delivery failure rate, to a KMS-encrypted topic; the stage's dashboard and its SES
 * reputation alarms (`OperationsDashboard`).
 */
export class Monitoring extends StackPart {
  /** Encrypts the alarm topic; its policy lets CloudWatch publish. */
  public readonly alarmTopicKey: kms.Key;
  public readonly alarmTopic: sns.Topic;
  public readonly alarms: readonly cloudwatch.Alarm[];
  public readonly operations: OperationsDashboard;
  /** Per-campaign alarms and the campaigns dashboard; absent without campaign files. */
  public readonly campaigns?: CampaignsMonitoringStack;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    // CloudWatch can only publish to a topic encrypted with a key whose policy allows it.
    this.alarmTopicKey = new kms.Key(this, 'AlarmTopicKey', { description: `Waymark ${props.stage}: alarm topic encryption`, enableKeyRotation: true });
    this.alarmTopicKey.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey');
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', { displayName: `Waymark ${props.stage} alarms`, masterKey: this.alarmTopicKey, enforceSSL: true });
    if (props.alarmEmail) this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));

    const alarms: cloudwatch.Alarm[] = [];
    const alarm = (alarmId: string, metric: cloudwatch.IMetric, description: string, scope: Construct = this) => {
      const created = new cloudwatch.Alarm(scope, alarmId, {
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      created.addAlarmAction(new cwActions.SnsAction(this.alarmTopic));
      alarms.push(created);
    };
    for (const { alarmId, queue, holds } of props.deadLetterQueues) {
      alarm(alarmId, queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: cloudwatch.Stats.MAXIMUM }), `Dead-letter queue holds ${holds}; inspect and redrive.`);
    }
    for (const machine of props.journeys) {
      const home = Stack.of(machine);
      alarm(
        `Journey-${machine.journey.journey.id}-ExecutionsFailedAlarm`,
        machine.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
        `Executions of journey "${machine.journey.journey.id}" failed.`,
        // In the journey's own stack (this one, or its shard), so the alarms count against that stack's resources.
        home === Stack.of(this) ? this : home,
      );
    }
    // A failed or timed-out audience scan leaves a snapshot failed (or running) or a re-check undone.
    alarm(
      'AudienceScanExecutionsFailedAlarm',
      props.audienceScan.metricFailed({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
      'Audience-scan executions (snapshots, time-based re-checks) failed.',
    );
    alarm(
      'AudienceScanExecutionsTimedOutAlarm',
      props.audienceScan.metricTimedOut({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
      'Audience-scan executions (snapshots, time-based re-checks) timed out.',
    );
    alarm('RouteEventErrorsAlarm', props.routeEvent.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }), 'route-event invocations failed (they are retried, then dead-lettered).');
    // Every journey counts the outcome of each message it asked a provider to send (metric Deliveries, by Outcome).
    const outcome = (name: 'sent' | 'failed' | 'unknown') =>
      new cloudwatch.Metric({ namespace: props.deliveryMetricsNamespace, metricName: DELIVERY_METRIC, dimensionsMap: { Outcome: name }, statistic: cloudwatch.Stats.SUM, period: Duration.minutes(15) });
    const deliveryFailureRate = new cloudwatch.Alarm(this, 'DeliveryFailureRateAlarm', {
      metric: new cloudwatch.MathExpression({
        // An idle period gives no datapoint (0/0), which is not breaching.
        expression: '100 * (FILL(failed, 0) + FILL(unknown, 0)) / (FILL(sent, 0) + FILL(failed, 0) + FILL(unknown, 0))',
        usingMetrics: { sent: outcome('sent'), failed: outcome('failed'), unknown: outcome('unknown') },
        label: 'failed or unknown deliveries (%)',
        period: Duration.minutes(15),
      }),
      threshold: 10,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: 'More than 10% of the messages sent to SES, SNS or Pinpoint in 15 minutes failed or have an unknown outcome; see the ledger (status failed/unknown) and the provider.',
    });
    deliveryFailureRate.addAlarmAction(new cwActions.SnsAction(this.alarmTopic));
    alarms.push(deliveryFailureRate);

    // One dashboard per stage, and SES reputation alarms (bounce 5%, complaint 0.1%).
    this.operations = new OperationsDashboard(this, 'Operations', {
      stage: props.stage,
      deliveryMetricsNamespace: props.deliveryMetricsNamespace,
      emailConfigurationSet: props.emailConfigurationSet,
      deadLetterQueues: Object.fromEntries(props.deadLetterQueues.map(({ label, queue }) => [label, queue])),
      alarmTopic: this.alarmTopic,
    });
    alarms.push(this.operations.bounceRateAlarm, this.operations.complaintRateAlarm);
    this.alarms = alarms;

    // Campaigns: 2 alarms or so each would crowd the app stack's and the Campaigns stack's resource budgets.
    if (props.campaigns && props.campaigns.length > 0) {
      this.campaigns = new CampaignsMonitoringStack(this, 'CampaignsMonitoring', {
        stage: props.stage,
        campaigns: props.campaigns,
        alarmTopic: this.alarmTopic,
        metricsNamespace: props.deliveryMetricsNamespace,
      });
    }
  }
}
