import { Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { MAX_CAMPAIGNS } from '../../lib/constructs/campaigns-stack';
import { CAMPAIGNS_PER_DASHBOARD_ROW } from '../../lib/constructs/campaigns-monitoring';
import { FIXTURE_CAMPAIGNS } from './campaign-fixtures';
import { flatten, resourcesOfType, STAGE, waymarkStacks } from './waymark-app';

type Resource = { Type: string; Properties: Record<string, any> };
type Json = { Resources: Record<string, Resource>; Parameters?: Record<string, unknown> };
type MetricStat = { Metric: { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: unknown }[] }; Stat: string };
type Query = { Id: string; Expression?: string; MetricStat?: MetricStat; ReturnData?: boolean };

/** `arn:<partition>:states:<region>:<account>:stateMachine:waymark-test_c-<id>` as `flatten` writes it. */
const machineArn = (campaignId: string) => `arn:<token>:states:<token>:<token>:stateMachine:waymark-${STAGE}_c-${campaignId}`;
/** What an alarm's metric queries read: `<MetricName> <StateMachineArn>` of each. */
const readsOf = (alarm: Resource) =>
  (alarm.Properties.Metrics as Query[]).filter((q) => q.MetricStat).map((q) => `${q.MetricStat!.Metric.MetricName} ${flatten(q.MetricStat!.Metric.Dimensions[0].Value)}`).sort();

describe('campaign operations: alarms per campaign and the campaigns dashboard (CampaignsMonitoring nested stack)', () => {
  let stacks: ReturnType<typeof waymarkStacks>;
  let monitoring: Json;
  let app: Json;
  beforeAll(() => {
    stacks = waymarkStacks(undefined, { campaigns: FIXTURE_CAMPAIGNS });
    monitoring = Template.fromStack(stacks.application.campaignsMonitoring!).toJSON() as Json;
    app = Template.fromStack(stacks.application).toJSON() as Json;
  });
  const alarm = (prefix: string) => {
    const found = resourcesOfType(monitoring, 'AWS::CloudWatch::Alarm').filter(([id]) => id.startsWith(prefix));
    expect(found).toHaveLength(1);
    return found[0][1] as Resource;
  };

  it('alarms per campaign when a run fails or times out (AWS/States of its state machine, by name), to the stage alarm topic', () => {
    for (const { campaign } of FIXTURE_CAMPAIGNS) {
      const runs = alarm(`Campaign${campaign.id.replace(/-/g, '')}RunsFailedAlarm`);
      expect(readsOf(runs)).toEqual([`ExecutionsFailed ${machineArn(campaign.id)}`, `ExecutionsTimedOut ${machineArn(campaign.id)}`]);
      expect((runs.Properties.Metrics as Query[]).find((q) => q.ReturnData !== false && q.Expression)?.Expression).toBe('FILL(failed, 0) + FILL(timedOut, 0)');
      expect(runs.Properties).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching' });
      expect(runs.Properties.AlarmDescription).toContain(`GET /campaigns/${campaign.id}/runs`);
      // The parent's topic, passed to the nested stack as a parameter.
      const [action] = runs.Properties.AlarmActions as { Ref: string }[];
      expect(Object.keys(monitoring.Parameters ?? {})).toContain(action.Ref);
      const nested = resourcesOfType(app, 'AWS::CloudFormation::Stack').find(([id]) => id.startsWith('CampaignsMonitoring'))![1] as Resource;
      expect(nested.Properties.Parameters[action.Ref]).toEqual({ Ref: expect.stringMatching(/^AlarmTopic[0-9A-F]{8}$/) });
    }
  });

  it("alarms per campaign when its Distributed Map children (batches) fail or time out: the map's label in the dimension", () => {
    for (const { campaign } of FIXTURE_CAMPAIGNS) {
      const batches = alarm(`Campaign${campaign.id.replace(/-/g, '')}BatchesFailedAlarm`);
      const children = `${machineArn(campaign.id)}/welcome`;
      expect(readsOf(batches)).toEqual([`ExecutionsFailed ${children}`, `ExecutionsTimedOut ${children}`]);
      expect(batches.Properties.AlarmActions).toHaveLength(1);
    }
  });

  it("draws each campaign's runs started, succeeded and ended badly (failed + timed out + aborted) on waymark-<stage>-campaigns", () => {
    const [[, dashboard]] = resourcesOfType(monitoring, 'AWS::CloudWatch::Dashboard');
    expect(dashboard.Properties!.DashboardName).toBe(`waymark-${STAGE}-campaigns`);
    const body = flatten(dashboard.Properties!.DashboardBody);
    for (const { campaign } of FIXTURE_CAMPAIGNS) {
      for (const metric of ['ExecutionsStarted', 'ExecutionsSucceeded', 'ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']) {
        expect(body).toContain(`"AWS/States","${metric}","StateMachineArn","${machineArn(campaign.id)}"`);
      }
      expect(body).toContain(`"label":"${campaign.id}"`);
    }
    // The campaign-step function's messages per campaign and channel, by SEARCH.
    expect(body).toContain(`{Waymark/${STAGE},Campaign,Channel,Outcome,service} MetricName=\\"CampaignMessages\\"`);
  });

  it('adds a campaigns section of constant size to the stage dashboard (SEARCH over waymark-<stage>_c- and CampaignMessages)', () => {
    const [[, dashboard]] = resourcesOfType(app, 'AWS::CloudWatch::Dashboard');
    const body = flatten(dashboard.Properties!.DashboardBody);
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']) {
      expect(body).toContain(`SEARCH('{AWS/States,StateMachineArn} MetricName=\\"${metric}\\" \\"waymark-${STAGE}_c-\\"'`);
    }
    expect(body).toContain('MetricName=\\"CampaignMessages\\" Outcome=\\"suppressed\\"');
    expect(body).toContain(`waymark-${STAGE}-campaigns`);
    const one = Template.fromStack(waymarkStacks(undefined, { campaigns: FIXTURE_CAMPAIGNS.slice(0, 1) }).application).toJSON() as Json;
    const [[, single]] = resourcesOfType(one, 'AWS::CloudWatch::Dashboard');
    expect(flatten(single.Properties!.DashboardBody).length).toBe(body.length);
  });

  it('leaves cdk-nag without unacknowledged findings in the monitoring stack', () => {
    const withNag = waymarkStacks(undefined, { campaigns: FIXTURE_CAMPAIGNS });
    const pack = new AwsSolutionsChecks(withNag.app, { verbose: true });
    Validations.of(withNag.app).addPlugins(pack);
    const violations = pack.validateScope(withNag.application.campaignsMonitoring!).violations.map((v) => v.ruleName);
    expect(violations).toEqual([]);
  });
});

describe(`the resource budget with ${MAX_CAMPAIGNS} scheduled campaigns`, () => {
  let campaignsStack: Json;
  let monitoring: Json;
  let appResources: number;
  // The largest shipped campaign, compiled, MAX_CAMPAIGNS times; its definition names the campaign in the
  // ResultWriter prefix (runs/<campaignId>/results/).
  const largest = [...FIXTURE_CAMPAIGNS].sort((a, b) => JSON.stringify(b.definition).length - JSON.stringify(a.definition).length)[0];
  beforeAll(() => {
    const prefix = `runs/${largest.campaign.id}/results/`;
    const many = Array.from({ length: MAX_CAMPAIGNS }, (_, i) => ({
      campaign: { ...largest.campaign, id: `generated-${i}` },
      definition: JSON.parse(JSON.stringify(largest.definition).replaceAll(prefix, `runs/generated-${i}/results/`)),
    }));
    const { application } = waymarkStacks(undefined, { campaigns: many });
    campaignsStack = Template.fromStack(application.campaigns.campaignsStack!).toJSON() as Json;
    monitoring = Template.fromStack(application.campaignsMonitoring!).toJSON() as Json;
    appResources = Object.keys((Template.fromStack(application).toJSON() as Json).Resources).length;
  });

  it('keeps the Campaigns template under CloudFormation\'s 1 MB, as CDK writes it (JSON indented by one space)', () => {
    // Template body in S3 (a nested stack's): 1 MB (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html).
    const bytes = Buffer.byteLength(JSON.stringify(campaignsStack, undefined, 1));
    console.log(`Campaigns template with ${MAX_CAMPAIGNS} campaigns: ${bytes} bytes`);
    expect(bytes).toBeLessThan(1_000_000);
  });

  it('keeps the Campaigns stack under 500 resources: 5 per campaign (6 when scheduled) and 9 shared', () => {
    const perCampaign = largest.campaign.schedule.type === 'on-demand' ? 5 : 6;
    // Plus the overflow managed policies CDK splits the schedule role's policy into (one ARN per schedule), if any.
    const overflow = resourcesOfType(campaignsStack, 'AWS::IAM::ManagedPolicy').length;
    expect(Object.keys(campaignsStack.Resources).length).toBe(perCampaign * MAX_CAMPAIGNS + 9 + overflow);
    expect(Object.keys(campaignsStack.Resources).length).toBeLessThan(500);
  });

  it('keeps the monitoring stack under 500 resources: 2 alarms per campaign (one Distributed Map each) and the dashboard', () => {
    expect(Object.keys(monitoring.Resources).length).toBe(2 * MAX_CAMPAIGNS + 1);
    expect(appResources).toBeLessThan(500);
  });

  it('keeps the campaigns dashboard within CloudWatch limits: 500 widgets, 500 metrics a graph, 2,500 metrics a dashboard', () => {
    const [[, dashboard]] = resourcesOfType(monitoring, 'AWS::CloudWatch::Dashboard');
    const body = JSON.parse(flatten(dashboard.Properties!.DashboardBody).replace(/<[^>]+>/g, 'x')) as { widgets: { properties: { metrics?: unknown[][] } }[] };
    const perWidget = body.widgets.map((w) => (w.properties.metrics ?? []).length);
    expect(body.widgets.length).toBeLessThan(500);
    expect(Math.max(...perWidget)).toBeLessThanOrEqual(5 * CAMPAIGNS_PER_DASHBOARD_ROW);
    expect(perWidget.reduce((a, b) => a + b, 0)).toBeLessThan(2500);
    // The body sits in the nested stack's template (1 MB): measured, not bound here.
    expect(flatten(dashboard.Properties!.DashboardBody).length).toBeLessThan(200_000);
  });
});
