import { Template } from 'aws-cdk-lib/assertions';
import { loadJourneys } from '../../lib/journeys';
import { resourcesOfType, STAGE, testApp, waymarkStacks } from './waymark-app';

type Json = { Resources: Record<string, { Type: string; Properties?: Record<string, any> }> };

/** The dashboard body with every token replaced by `<token>` (it is an Fn::Join of strings and references). */
function dashboardBody(json: Json): string {
  const dashboards = resourcesOfType(json, 'AWS::CloudWatch::Dashboard');
  expect(dashboards).toHaveLength(1);
  const body = dashboards[0][1].Properties?.DashboardBody as unknown;
  if (typeof body === 'string') return body;
  const [, parts] = (body as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return parts.map((p) => (typeof p === 'string' ? p : '<token>')).join('');
}

describe('operations: dashboard and SES reputation alarms', () => {
  let json: Json;
  /** Dead-letter queues of the campaigns' nested stack (the schedules'), on the same dashboard. */
  let campaignQueues = 0;
  beforeAll(() => {
    const { application } = waymarkStacks();
    json = Template.fromStack(application).toJSON() as Json;
    const nested = application.campaigns.campaignsStack;
    campaignQueues = nested ? resourcesOfType(Template.fromStack(nested).toJSON() as Json, 'AWS::SQS::Queue').length : 0;
  });

  it(`has one dashboard, waymark-${STAGE}`, () => {
    const [[, dashboard]] = resourcesOfType(json, 'AWS::CloudWatch::Dashboard');
    expect(dashboard.Properties?.DashboardName).toBe(`waymark-${STAGE}`);
  });

  it('shows events in and rejected, journeys entered, suppressions, DLQ depth, failed and timed-out executions, Lambda errors and throttles', () => {
    const body = dashboardBody(json);
    for (const metric of ['EventsRouted', 'EventsRejected', 'JourneysEntered', 'AddressesSuppressed', 'ApproximateNumberOfMessagesVisible']) {
      expect({ metric, shown: body.includes(`"${metric}"`) }).toEqual({ metric, shown: true });
    }
    // Every state machine and function of the stage, found by name, so the dashboard does not grow with the journeys.
    expect(body).toContain(`MetricName=\\"ExecutionsFailed\\" \\"waymark-${STAGE}-\\"`);
    expect(body).toContain(`MetricName=\\"ExecutionsTimedOut\\" \\"waymark-${STAGE}-\\"`);
    expect(body).toContain(`{AWS/Lambda,FunctionName} MetricName=\\"Errors\\" \\"Waymark-${STAGE}-App\\"`);
    expect(body).toContain(`{AWS/Lambda,FunctionName} MetricName=\\"Throttles\\" \\"Waymark-${STAGE}-App\\"`);
    // Every dead-letter queue, the app's and the campaign schedules', one line each.
    expect(body.match(/"ApproximateNumberOfMessagesVisible"/g)).toHaveLength(resourcesOfType(json, 'AWS::SQS::Queue').length + campaignQueues);
  });

  it('shows messages sent, failed and unknown per channel from the journeys\' Deliveries metric', () => {
    const body = dashboardBody(json);
    for (const channel of ['email', 'sms', 'push']) {
      for (const outcome of ['sent', 'failed', 'unknown']) {
        const line = `["Waymark/${STAGE}","Deliveries","Channel","${channel}","Outcome","${outcome}"`;
        expect({ channel, outcome, shown: body.includes(line) }).toEqual({ channel, outcome, shown: true });
      }
    }
  });

  it('shows every journey by SEARCH: entered, sent, failed, suppressed, converted, by node and by variant', () => {
    const body = dashboardBody(json);
    const counted = (schema: string, metric: string) => `{Waymark/${STAGE},${schema},service} MetricName=\\"${metric}\\"'`;
    for (const [schema, metric] of [
      ['Journey', 'Entered'],
      ['Journey', 'Suppressed'],
      ['Journey', 'Converted'],
      ['Journey', 'Revenue'],
      ['Journey', 'Opened'],
      ['Journey', 'Clicked'],
      ['Journey,Reason', 'Exited'],
      ['Journey,Node,Variant', 'Assigned'],
      ['Journey,Node,Variant', 'Converted'],
    ]) {
      const shown = body.includes(counted(schema, metric));
      expect({ metric, schema, shown }).toEqual({ metric, schema, shown: true });
    }
    for (const [schema, outcome] of [
      ['Journey', 'sent'],
      ['Journey', 'failed'],
      ['Journey', 'unknown'],
      ['Journey,Node', 'sent'],
      ['Journey,Node', 'failed'],
    ]) {
      const search = `{Waymark/${STAGE},${schema},Outcome} MetricName=\\"Deliveries\\" Outcome=\\"${outcome}\\"'`;
      expect({ outcome, schema, shown: body.includes(search) }).toEqual({ outcome, schema, shown: true });
    }
  });

  it('stays far within the dashboard limits (500 widgets) however many journeys there are', () => {
    const widgets = JSON.parse(dashboardBody(json)).widgets as unknown[];
    expect(widgets.length).toBeLessThan(50);
  });

  it("shows and alarms on this stage's SES bounce rate at 5% and complaint rate at 0.1%, to the alarm topic", () => {
    const [configurationSetId] = resourcesOfType(json, 'AWS::SES::ConfigurationSet')[0];
    const [topicId] = resourcesOfType(json, 'AWS::SNS::Topic')[0];
    const alarms = resourcesOfType(json, 'AWS::CloudWatch::Alarm').filter(([, a]) => a.Properties?.Namespace === 'AWS/SES');
    const byMetric = new Map(alarms.map(([, a]) => [a.Properties?.MetricName as string, a.Properties]));
    expect([...byMetric.keys()].sort()).toEqual(['Reputation.BounceRate', 'Reputation.ComplaintRate']);
    for (const [metric, threshold] of [
      ['Reputation.BounceRate', 0.05],
      ['Reputation.ComplaintRate', 0.001],
    ] as const) {
      expect({ metric, ...byMetric.get(metric) }).toMatchObject({
        metric,
        Threshold: threshold,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Dimensions: [{ Name: 'ses:configuration-set', Value: { Ref: configurationSetId } }],
        AlarmActions: [{ Ref: topicId }],
      });
    }
    const body = dashboardBody(json);
    expect(body).toContain('"Reputation.BounceRate"');
    expect(body).toContain('"Reputation.ComplaintRate"');
  });

  it('adds no resource per journey (one dashboard and two alarms whatever the number of journeys)', () => {
    const operational = (count: number) => {
      const journeys = loadJourneys().slice(0, count);
      const stack = waymarkStacks(testApp(), { journeys, pushApplicationId: 'app' }).application;
      const resources = Template.fromStack(stack).toJSON() as Json;
      return {
        dashboards: resourcesOfType(resources, 'AWS::CloudWatch::Dashboard').length,
        sesAlarms: resourcesOfType(resources, 'AWS::CloudWatch::Alarm').filter(([, a]) => a.Properties?.Namespace === 'AWS/SES').length,
        bodyLength: dashboardBody(resources).length,
      };
    };
    expect(operational(1)).toEqual(operational(3));
  });
});
