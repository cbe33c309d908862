import { ArnFormat, Duration, NestedStack, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { CAMPAIGN_MESSAGES_METRIC } from '../../lambdas/core/campaigns/metrics';
import type { DeployedCampaign } from '../campaigns';
import { campaignStateMachineName } from './campaign-state-machine';

/** Campaigns per row of the campaigns dashboard: one graph each of runs started, succeeded and ended badly. */
export const CAMPAIGNS_PER_DASHBOARD_ROW = 15;

/**
 * A CloudWatch alarm on metric math reads at most 10 metrics
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html): 2 per Distributed Map
 * (failed, timed out), so one children alarm covers 5 of a campaign's Distributed Maps.
 */
export const MAPS_PER_CHILDREN_ALARM = 5;

/** The labels of a definition's Distributed Map states (at any depth), in document order; unlabelled ones are skipped. */
export function distributedMapLabels(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(distributedMapLabels);
  if (node === null || typeof node !== 'object') return [];
  const record = node as Record<string, unknown>;
  const mode = (record.ItemProcessor as { ProcessorConfig?: { Mode?: unknown } } | undefined)?.ProcessorConfig?.Mode;
  const own = record.Type === 'Map' && mode === 'DISTRIBUTED' && typeof record.Label === 'string' ? [record.Label] : [];
  return [...own, ...Object.values(record).flatMap(distributedMapLabels)];
}

export interface CampaignsMonitoringProps {
  readonly stage: string;
  /** The deployed campaigns (their ids and compiled definitions; the state machines are found by name). */
  readonly campaigns: readonly DeployedCampaign[];
  /** The stage's alarm topic (the parent's: a parameter of this stack). */
  readonly alarmTopic: sns.ITopic;
  /** `Waymark/<stage>`: the campaign-step function's Powertools metrics (`CampaignMessages`). */
  readonly metricsNamespace: string;
}

/**
 * What tells an operator a campaign went wrong, in a nested stack of its own so that the `Campaigns` stack keeps its
 * resources for campaigns: per campaign an alarm on its runs failing or timing out and one on its Distributed Map
 * children (batches) failing, to the stage's alarm topic, and the `waymark-<stage>-campaigns` dashboard. Metrics name
 * the state machines by their names (`waymark-<stage>_c-<id>`), so nothing is exported from the `Campaigns` stack.
 *
 * AWS/States execution metrics have the dimension StateMachineArn, the unqualified ARN also for runs started on the
 * `live` alias (which Step Functions reports again with the alias and version); children of a Distributed Map report
 * under `stateMachine:<name>/<Map Run label>` (https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html,
 * https://docs.aws.amazon.com/step-functions/latest/dg/execution-alias-version-associate.html,
 * https://docs.aws.amazon.com/step-functions/latest/dg/concepts-examine-map-run.html).
 */
export class CampaignsMonitoringStack extends NestedStack {
  /** Runs failed or timed out, by campaign id. */
  public readonly runAlarms: ReadonlyMap<string, cloudwatch.Alarm>;
  /** Distributed Map children failed or timed out, by campaign id (none for a campaign without labelled maps). */
  public readonly childAlarms: ReadonlyMap<string, readonly cloudwatch.Alarm[]>;
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: CampaignsMonitoringProps) {
    super(scope, id, { description: `Waymark ${props.stage}: campaign alarms and the campaigns dashboard` });
    const period = Duration.minutes(5);
    const machineArn = (campaignId: string) =>
      Stack.of(this).formatArn({
        service: 'states',
        resource: 'stateMachine',
        resourceName: campaignStateMachineName(props.stage, campaignId),
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    const states = (metricName: string, stateMachineArn: string, label?: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/States',
        metricName,
        dimensionsMap: { StateMachineArn: stateMachineArn },
        statistic: cloudwatch.Stats.SUM,
        period,
        ...(label === undefined ? {} : { label }),
      });
    const alarmOn = (alarmId: string, expression: cloudwatch.MathExpression, description: string) => {
      const alarm = new cloudwatch.Alarm(this, alarmId, {
        metric: expression,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      alarm.addAlarmAction(new cwActions.SnsAction(props.alarmTopic));
      return alarm;
    };

    const runAlarms = new Map<string, cloudwatch.Alarm>();
    const childAlarms = new Map<string, cloudwatch.Alarm[]>();
    for (const { campaign, definition } of props.campaigns) {
      const arn = machineArn(campaign.id);
      // Aborted is left out: a cancel through the API stops the execution (ExecutionsAborted); it is on the dashboard.
      runAlarms.set(
        campaign.id,
        alarmOn(
          `Campaign-${campaign.id}-RunsFailedAlarm`,
          new cloudwatch.MathExpression({
            expression: 'FILL(failed, 0) + FILL(timedOut, 0)',
            usingMetrics: { failed: states('ExecutionsFailed', arn), timedOut: states('ExecutionsTimedOut', arn) },
            label: `${campaign.id}: runs failed or timed out`,
            period,
          }),
          `A run of campaign "${campaign.id}" failed or timed out: GET /campaigns/${campaign.id}/runs shows its status and error; the execution's events are in the campaigns' log group.`,
        ),
      );
      const labels = [...new Set(distributedMapLabels(definition))];
      const alarms: cloudwatch.Alarm[] = [];
      for (let start = 0; start < labels.length; start += MAPS_PER_CHILDREN_ALARM) {
        const chunk = labels.slice(start, start + MAPS_PER_CHILDREN_ALARM);
        const usingMetrics = Object.fromEntries(
          chunk.flatMap((label, i) => [
            [`failed${i}`, states('ExecutionsFailed', `${arn}/${label}`)],
            [`timedOut${i}`, states('ExecutionsTimedOut', `${arn}/${label}`)],
          ]),
        );
        const suffix = start === 0 ? '' : `-${start / MAPS_PER_CHILDREN_ALARM + 1}`;
        alarms.push(
          alarmOn(
            `Campaign-${campaign.id}-BatchesFailedAlarm${suffix}`,
            new cloudwatch.MathExpression({
              expression: Object.keys(usingMetrics).map((m) => `FILL(${m}, 0)`).join(' + '),
              usingMetrics,
              label: `${campaign.id}: batches failed (${chunk.join(', ')})`,
              period,
            }),
            `Distributed Map children (batches) of campaign "${campaign.id}" failed after their retries (steps ${chunk.join(', ')}): the step and its run fail; see the Map Run in the Step Functions console.`,
          ),
        );
      }
      childAlarms.set(campaign.id, alarms);
    }
    this.runAlarms = runAlarms;
    this.childAlarms = childAlarms;
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `waymark-${props.stage}-campaigns`,
      defaultInterval: Duration.days(7),
      widgets: campaignWidgets(props, machineArn, states, period),
    });
  }
}

/**
 * The dashboard: per group of `CAMPAIGNS_PER_DASHBOARD_ROW` campaigns one row (runs started, succeeded, ended badly:
 * one line per campaign), then the messages per campaign from Powertools by SEARCH. With 75 campaigns: 5 rows, 375
 * metrics, within CloudWatch's 500 widgets, 500 metrics per widget and 2,500 metrics per dashboard (cloudwatch_limits).
 */
function campaignWidgets(
  props: CampaignsMonitoringProps,
  machineArn: (campaignId: string) => string,
  states: (metricName: string, arn: string, label?: string) => cloudwatch.Metric,
  period: Duration,
): cloudwatch.IWidget[][] {
  const graph = (title: string, left: cloudwatch.IMetric[]) => new cloudwatch.GraphWidget({ title, left, width: 8, height: 6 });
  const rows: cloudwatch.IWidget[][] = [
    [
      new cloudwatch.TextWidget({
        markdown: [
          `## Campaigns of ${props.stage}`,
          'One line per campaign (AWS/States metrics of its state machine). "Ended badly" is failed + timed out + aborted;',
          'a cancel through the API aborts its run. Alarms: runs failed or timed out, batches failed.',
        ].join('\n'),
        width: 24,
        height: 2,
      }),
    ],
  ];
  const ids = props.campaigns.map((c) => c.campaign.id);
  for (let start = 0; start < ids.length; start += CAMPAIGNS_PER_DASHBOARD_ROW) {
    const group = ids.slice(start, start + CAMPAIGNS_PER_DASHBOARD_ROW);
    const range = ids.length > CAMPAIGNS_PER_DASHBOARD_ROW ? ` (${group[0]} … ${group[group.length - 1]})` : '';
    rows.push([
      graph(`Runs started${range}`, group.map((id) => states('ExecutionsStarted', machineArn(id), id))),
      graph(`Runs succeeded${range}`, group.map((id) => states('ExecutionsSucceeded', machineArn(id), id))),
      graph(
        `Runs ended badly${range}`,
        // Metric ids are unique within a graph: one triple per campaign.
        group.map(
          (id, i) =>
            new cloudwatch.MathExpression({
              expression: `FILL(failed${i}, 0) + FILL(timedOut${i}, 0) + FILL(aborted${i}, 0)`,
              usingMetrics: {
                [`failed${i}`]: states('ExecutionsFailed', machineArn(id)),
                [`timedOut${i}`]: states('ExecutionsTimedOut', machineArn(id)),
                [`aborted${i}`]: states('ExecutionsAborted', machineArn(id)),
              },
              label: id,
              period,
            }),
        ),
      ),
    ]);
  }
  // One SEARCH per outcome over the campaign-step function's metric (its dimension set: Campaign, Channel, Outcome).
  const messages = (outcome: string) =>
    new cloudwatch.MathExpression({
      expression: `SEARCH('{${props.metricsNamespace},Campaign,Channel,Outcome,service} MetricName="${CAMPAIGN_MESSAGES_METRIC}" Outcome="${outcome}"', 'Sum', ${period.toSeconds()})`,
      label: outcome,
      period,
      usingMetrics: {},
    });
  rows.push([
    graph('Messages sent per campaign and channel', [messages('sent')]),
    graph('Messages failed per campaign and channel', [messages('failed')]),
    graph('Messages suppressed per campaign and channel', [messages('suppressed')]),
  ]);
  return rows;
}
