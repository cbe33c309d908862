import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as ses from 'aws-cdk-lib/aws-ses';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DELIVERY_METRIC } from '../../lambdas/core/journey';
import { CAMPAIGN_MESSAGES_METRIC } from '../../lambdas/core/campaigns/metrics';
import { JOURNEY_METRIC } from '../../lambdas/core/measure/metrics';

/**
 * Default dimension of the Powertools metrics the handlers emit (lambdas/shared/powertools.ts); their namespace is
 * the stage's, `Waymark/<stage>` (the journeys' `Deliveries` share it), set by `metricsNamespaceOf`.
 */
export const metricsNamespaceOf = (stage: string) => `Waymark/${stage}`;
export const POWERTOOLS_DIMENSIONS = { service: 'waymark' };

/** The send channels a journey counts `Deliveries` for (dimension Channel), and their outcomes (dimension Outcome). */
export const DELIVERY_CHANNELS = ['email', 'sms', 'push'] as const;
export const DELIVERY_OUTCOMES = ['sent', 'failed', 'unknown'] as const;

/**
 * Alarm at a 5% bounce rate and a 0.1% complaint rate (issue 11). The configuration set publishes its reputation
 * metrics (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-ses-configurationset-reputationoptions.html)
 * as fractions (0.05 = 5%), with dimension `ses:configuration-set`: not verified against an account here.
 */
export const BOUNCE_RATE_ALARM = 0.05;
export const COMPLAINT_RATE_ALARM = 0.001;

/** The heading of the per-journey section. */
const JOURNEY_SECTION_TEXT = [
  '## Journeys',
  'One line per journey (or node, or split variant), found by SEARCH: add a journey id to a search to see one.',
  'Entries, suppressions, engagement and conversions: namespace Waymark (all stages of the account and region);',
  'sent / failed / unknown: the stage\'s Deliveries. Definitions: lambdas/core/measure/README.md.',
].join('\n');

/** The heading of the campaigns section (its lines are found by SEARCH; per-campaign lines: the campaigns dashboard). */
const campaignSectionText = (stage: string) =>
  [
    '## Campaigns',
    `Every campaign of the stage by SEARCH. One line per campaign, with alarms per campaign: dashboard waymark-${stage}-campaigns.`,
    'A cancel through the API aborts its run; failed and timed-out runs raise the campaign\'s alarm.',
  ].join('\n');

export interface OperationsDashboardProps {
  readonly stage: string;
  /** The stage's metrics namespace (`Waymark/<stage>`): the journeys' `Deliveries` and the handlers' Powertools metrics. */
  readonly deliveryMetricsNamespace: string;
  /** The stage's configuration set (reputation metrics enabled): bounce and complaint rates of this stage's mail. */
  readonly emailConfigurationSet: ses.IConfigurationSet;
  /** Every dead-letter queue, by label. */
  readonly deadLetterQueues: Readonly<Record<string, sqs.IQueue>>;
  /** Where the SES reputation alarms go. */
  readonly alarmTopic: sns.ITopic;
}

/**
 * One CloudWatch dashboard per stage (`waymark-<stage>`) and the SES reputation alarms. Its size does not grow with
 * the journeys: state machines and functions are found with SEARCH expressions by this stage's names.
 */
export class OperationsDashboard extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;
  public readonly bounceRateAlarm: cloudwatch.Alarm;
  public readonly complaintRateAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: OperationsDashboardProps) {
    super(scope, id);
    const period = Duration.minutes(5);
    const powertools = (metricName: string, label: string) =>
      new cloudwatch.Metric({ namespace: props.deliveryMetricsNamespace, metricName, dimensionsMap: POWERTOOLS_DIMENSIONS, statistic: cloudwatch.Stats.SUM, period, label });
    const delivery = (channel: string, outcome: string) =>
      new cloudwatch.Metric({
        namespace: props.deliveryMetricsNamespace,
        metricName: DELIVERY_METRIC,
        dimensionsMap: { Channel: channel, Outcome: outcome },
        statistic: cloudwatch.Stats.SUM,
        period,
        label: outcome,
      });
    // No label: an alarm on a labelled metric is written as a metric-math alarm.
    const reputation = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/SES',
        metricName,
        dimensionsMap: { 'ses:configuration-set': props.emailConfigurationSet.configurationSetName },
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.minutes(15),
      });
    // Every state machine of the stage is named waymark-<stage>-<id>; every function of the app stack starts with its name.
    const search = (namespaceAndDimension: string, metricName: string, term: string, label: string) =>
      new cloudwatch.MathExpression({
        expression: `SEARCH('{${namespaceAndDimension}} MetricName="${metricName}" "${term}"', 'Sum', ${period.toSeconds()})`,
        label,
        period,
        usingMetrics: {},
      });
    // Per journey: one SEARCH per panel over the journey dimension sets (lambdas/core/measure/metrics.ts and the
    // send's Deliveries): no widget per journey; a SEARCH returns up to 500 time series (CDK SearchExpressionProps,
    // https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_cloudwatch.SearchExpressionProps.html).
    const byJourney = (schema: string, metricName: string, label: string, terms = '') =>
      new cloudwatch.MathExpression({
        expression: `SEARCH('{${schema}} MetricName="${metricName}"${terms}', 'Sum', ${period.toSeconds()})`,
        label,
        period,
        usingMetrics: {},
      });
    // The counters' metrics (Powertools adds its `service` dimension to every set) and the send's Deliveries.
    const counted = (metricName: string, label: string, dimensions: readonly string[] = ['Journey']) =>
      byJourney(
        [props.deliveryMetricsNamespace, ...dimensions, ...Object.keys(POWERTOOLS_DIMENSIONS)].join(','),
        metricName,
        label,
      );
    const deliveries = (outcome: string, dimensions: readonly string[] = ['Journey']) => {
      const schema = [props.deliveryMetricsNamespace, ...dimensions, 'Outcome'].join(',');
      return byJourney(schema, DELIVERY_METRIC, outcome, ` Outcome="${outcome}"`);
    };
    const splits = ['Journey', 'Node', 'Variant'];
    const machines = `waymark-${props.stage}-`;
    const campaigns = `waymark-${props.stage}_c-`;
    // The campaign-step function's CampaignMessages (lambdas/core/campaigns/metrics.ts), one line per campaign and channel.
    const campaignMessages = (outcome: string) =>
      byJourney(
        [props.deliveryMetricsNamespace, 'Campaign', 'Channel', 'Outcome', ...Object.keys(POWERTOOLS_DIMENSIONS)].join(','),
        CAMPAIGN_MESSAGES_METRIC,
        outcome,
        ` Outcome="${outcome}"`,
      );
    const functions = Stack.of(this).stackName;

    const bounceRate = reputation('Reputation.BounceRate');
    const complaintRate = reputation('Reputation.ComplaintRate');
    this.bounceRateAlarm = new cloudwatch.Alarm(this, 'BounceRateAlarm', {
      metric: bounceRate,
      threshold: BOUNCE_RATE_ALARM,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `The SES bounce rate of the Waymark ${props.stage} configuration set reached 5% (SES reviews accounts from there); check the suppression list, list hygiene and the journeys' audiences.`,
    });
    this.complaintRateAlarm = new cloudwatch.Alarm(this, 'ComplaintRateAlarm', {
      metric: complaintRate,
      threshold: COMPLAINT_RATE_ALARM,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `The SES complaint rate of the Waymark ${props.stage} configuration set reached 0.1% (SES reviews accounts from there); check consent, frequency and unsubscribe links.`,
    });
    for (const alarm of [this.bounceRateAlarm, this.complaintRateAlarm]) alarm.addAlarmAction(new cwActions.SnsAction(props.alarmTopic));

    const graph = (title: string, left: cloudwatch.IMetric[], extra: Partial<cloudwatch.GraphWidgetProps> = {}) =>
      new cloudwatch.GraphWidget({ title, left, width: 8, height: 6, ...extra });
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `waymark-${props.stage}`,
      defaultInterval: Duration.hours(24),
      widgets: [
        [
          graph('Events in and rejected (all stages: Powertools namespace Waymark)', [powertools('EventsRouted', 'routed'), powertools('EventsRejected', 'rejected')]),
          graph('Journeys entered (all stages)', [powertools('JourneysEntered', 'entered')]),
          graph('Addresses suppressed by bounces and complaints (all stages)', [powertools('AddressesSuppressed', 'suppressed')]),
        ],
        DELIVERY_CHANNELS.map((channel) => graph(`Messages ${channel}: sent / failed / unknown`, DELIVERY_OUTCOMES.map((outcome) => delivery(channel, outcome)))),
        [
          graph('SES bounce and complaint rates (this stage\'s configuration set)', [bounceRate.with({ label: 'bounce rate' })], {
            right: [complaintRate.with({ label: 'complaint rate' })],
            leftAnnotations: [{ value: BOUNCE_RATE_ALARM, label: 'bounce 5%' }],
            rightAnnotations: [{ value: COMPLAINT_RATE_ALARM, label: 'complaint 0.1%' }],
          }),
          graph(
            'Dead-letter queue depth',
            Object.entries(props.deadLetterQueues).map(([label, queue]) =>
              queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: cloudwatch.Stats.MAXIMUM, label }),
            ),
          ),
          graph('Executions failed / timed out (every state machine of the stage)', [
            search('AWS/States,StateMachineArn', 'ExecutionsFailed', machines, 'failed'),
            search('AWS/States,StateMachineArn', 'ExecutionsTimedOut', machines, 'timed out'),
          ]),
        ],
        [
          graph('Lambda errors (every function of the stage)', [search('AWS/Lambda,FunctionName', 'Errors', functions, 'errors')], { width: 12 }),
          graph('Lambda throttles (every function of the stage)', [search('AWS/Lambda,FunctionName', 'Throttles', functions, 'throttles')], { width: 12 }),
        ],
        [new cloudwatch.TextWidget({ markdown: JOURNEY_SECTION_TEXT, width: 24, height: 2 })],
        [
          graph('Entered per journey', [counted(JOURNEY_METRIC.entered, 'entered')]),
          graph('Sent per journey', [deliveries('sent')]),
          graph('Failed and unknown per journey', [deliveries('failed'), deliveries('unknown')]),
        ],
        [
          graph('Suppressed per journey', [counted(JOURNEY_METRIC.suppressed, 'suppressed')]),
          graph('Converted per journey', [counted(JOURNEY_METRIC.converted, 'converted')]),
          graph('Revenue per journey', [counted(JOURNEY_METRIC.revenue, 'revenue')]),
        ],
        [
          graph('Opened and clicked per journey', [
            counted(JOURNEY_METRIC.opened, 'opened'),
            counted(JOURNEY_METRIC.clicked, 'clicked'),
          ]),
          graph('Exited per journey and reason', [counted(JOURNEY_METRIC.exited, 'exited', ['Journey', 'Reason'])]),
          graph('Sent and failed per journey node', [
            deliveries('sent', ['Journey', 'Node']),
            deliveries('failed', ['Journey', 'Node']),
          ]),
        ],
        [
          graph('Split variants: assigned', [counted(JOURNEY_METRIC.assigned, 'assigned', splits)], { width: 12 }),
          graph('Split variants: conversions', [counted(JOURNEY_METRIC.converted, 'converted', splits)], { width: 12 }),
        ],
        [new cloudwatch.TextWidget({ markdown: campaignSectionText(props.stage), width: 24, height: 2 })],
        [
          // Campaign state machines are waymark-<stage>_c-<id>; their Distributed Map children report as <name>/<label>.
          graph('Campaign runs failed / timed out / aborted (every campaign, and its batches)', [
            search('AWS/States,StateMachineArn', 'ExecutionsFailed', campaigns, 'failed'),
            search('AWS/States,StateMachineArn', 'ExecutionsTimedOut', campaigns, 'timed out'),
            search('AWS/States,StateMachineArn', 'ExecutionsAborted', campaigns, 'aborted'),
          ], { width: 12 }),
          graph('Campaign messages per campaign and channel: sent / failed / suppressed', [
            campaignMessages('sent'),
            campaignMessages('failed'),
            campaignMessages('suppressed'),
          ], { width: 12 }),
        ],
      ],
    });
  }
}
