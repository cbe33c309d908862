import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Placeholder } from '../../lambdas/core/journey';
import { EnvKey } from '../../lambdas/core/config/env-keys';
import type { WaymarkAppStack } from '../../lib/app-stack';
import { flatten, journeyIdsOnDisk, resourcesOfType, STAGE, waymarkStacks } from './waymark-app';

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

/** Every API method: the function it invokes and its verb. */
const ROUTES = [
  ['IngestEventFunction', 'POST'],
  ['ListRejectedEventsFunction', 'GET'],
  ['ListJourneysFunction', 'GET'],
  ['TriggerJourneyFunction', 'POST'],
  ['FindProfileFunction', 'GET'],
  ['GetProfileFunction', 'GET'],
  ['EraseProfileFunction', 'DELETE'],
  ['UpdateProfileAttributesFunction', 'PUT'],
  ['ExportProfileFunction', 'GET'],
  ['GetConsentFunction', 'GET'],
  ['UpdateConsentFunction', 'PUT'],
  ['ConfirmUnsubscribeFunction', 'GET'],
  ['UnsubscribeProfileFunction', 'POST'],
] as const;

/** The only methods without IAM authorization: the unsubscribe link (a signed token authorizes it). */
const PUBLIC_FUNCTIONS = ['ConfirmUnsubscribeFunction', 'UnsubscribeProfileFunction'];

describe('WaymarkAppStack', () => {
  let stack: WaymarkAppStack;
  let template: Template;
  let json: { Resources: Record<string, { Type: string; Properties: Record<string, any>; DependsOn?: string[] }> };
  const journeyIds = journeyIdsOnDisk();

  beforeAll(() => {
    stack = waymarkStacks().application;
    template = Template.fromStack(stack);
    json = template.toJSON() as typeof json;
  });

  /** Every Allow statement attached to the role of the given function construct. */
  const statementsOf = (functionId: string): Statement[] =>
    resourcesOfType(json, 'AWS::IAM::Policy')
      .filter(([, p]) => (p.Properties?.Roles as { Ref: string }[]).some((r) => r.Ref.startsWith(`${functionId}Role`)))
      .flatMap(([, p]) => p.Properties?.PolicyDocument.Statement as Statement[]);
  const actionsOf = (functionId: string) => statementsOf(functionId).flatMap((s) => [s.Action].flat());

  describe('functions', () => {
    const ours = () => resourcesOfType(json, 'AWS::Lambda::Function').filter(([, f]) => f.Properties?.Environment?.Variables?.[EnvKey.profilesTable]);

    it('has one function per handler, each on nodejs24.x, arm64, with active tracing', () => {
      // One function per entry point file in lambdas/handlers/.
      expect(ours()).toHaveLength(readdirSync(join(__dirname, '..', '..', 'lambdas', 'handlers')).filter((f) => f.endsWith('.ts')).length);
      for (const [id, f] of ours()) {
        expect({ id, runtime: f.Properties?.Runtime, arch: f.Properties?.Architectures, tracing: f.Properties?.TracingConfig }).toEqual({
          id,
          runtime: 'nodejs24.x',
          arch: ['arm64'],
          tracing: { Mode: 'Active' },
        });
      }
    });

    it('logs every function as JSON to a log group of its own with a retention', () => {
      const groups = new Map(resourcesOfType(json, 'AWS::Logs::LogGroup'));
      for (const [id, f] of ours()) {
        const ref = f.Properties?.LoggingConfig?.LogGroup?.Ref as string;
        expect({ id, format: f.Properties?.LoggingConfig?.LogFormat, retention: groups.get(ref)?.Properties?.RetentionInDays }).toEqual({ id, format: 'JSON', retention: 90 });
      }
    });

    it('gives every handler all three table names (the handlers read them at cold start)', () => {
      for (const [, f] of ours()) expect(Object.keys(f.Properties?.Environment.Variables)).toEqual(expect.arrayContaining([EnvKey.profilesTable, EnvKey.journeysTable, EnvKey.runtimeTable]));
    });

    it('attaches no AWS managed policy to any function role', () => {
      for (const [id, role] of resourcesOfType(json, 'AWS::IAM::Role').filter(([, r]) => JSON.stringify(r.Properties?.AssumeRolePolicyDocument).includes('lambda.amazonaws.com'))) {
        expect({ id, managed: role.Properties?.ManagedPolicyArns }).toEqual({ id, managed: undefined });
      }
    });

    it('dead-letters route-event invocations that fail after their retries', () => {
      const [queueId] = resourcesOfType(json, 'AWS::SQS::Queue').find(([id]) => id.startsWith('RouteEventFunctionDeadLetterQueue'))!;
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp('^Routes a business event'),
        DeadLetterConfig: { TargetArn: { 'Fn::GetAtt': [queueId, 'Arn'] } },
      });
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: Match.stringLikeRegexp('^RouteEventFunction') },
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 21600,
      });
    });

    it('lets ingest-event (client events) and route-event (ProfileMerged) put events on the bus, and only them', () => {
      expect(actionsOf('IngestEvent')).toContain('events:PutEvents');
      expect(actionsOf('RouteEvent')).toContain('events:PutEvents');
      for (const other of ['TriggerJourney', 'ListJourneys', 'PrepareSend', 'RegisterWait', 'ResolveWait', 'LoadProfile']) expect(actionsOf(other)).not.toContain('events:PutEvents');
    });

    it('keeps the read-only handlers read-only', () => {
      for (const reader of ['ListJourneys', 'ResolveWait', 'LoadProfile']) {
        expect({ reader, writes: actionsOf(reader).filter((a) => /^dynamodb:(Put|Update|Delete|BatchWrite)/.test(a)) }).toEqual({ reader, writes: [] });
      }
    });

    it('lets route-event and trigger-journey start every journey and nothing else start one', () => {
      const machines = resourcesOfType(json, 'AWS::StepFunctions::StateMachine').map(([id]) => ({ Ref: id }));
      for (const starter of ['RouteEvent', 'TriggerJourney']) {
        const start = statementsOf(starter).find((s) => [s.Action].flat().includes('states:StartExecution'));
        expect(start?.Resource).toEqual(expect.arrayContaining(machines));
        expect(actionsOf(starter)).toContain('states:DescribeExecution');
      }
      expect(actionsOf('RouteEvent')).toEqual(expect.arrayContaining(['states:StopExecution', 'states:SendTaskSuccess', 'states:SendTaskFailure']));
      for (const other of ['IngestEvent', 'ListJourneys', 'PrepareSend', 'RegisterWait', 'ResolveWait', 'LoadProfile']) expect(actionsOf(other)).not.toContain('states:StartExecution');
    });

    it('scopes DescribeExecution/StopExecution to the executions of this stage\'s journeys', () => {
      const describe = statementsOf('RouteEvent').find((s) => [s.Action].flat().includes('states:StopExecution'))!;
      const patterns = (describe.Resource as unknown[]).map(flatten).sort();
      expect(patterns).toEqual(journeyIds.map((id) => `arn:<token>:states:<token>:<token>:execution:waymark-${STAGE}-${id}:*`).sort());
    });
  });

  describe('journeys', () => {
    const machines = () => resourcesOfType(json, 'AWS::StepFunctions::StateMachine');

    it('has one Standard state machine per statemachines/*.json file, named waymark-<stage>-<journeyId>', () => {
      expect(journeyIds.length).toBeGreaterThan(0);
      expect(machines().map(([, m]) => m.Properties?.StateMachineName).sort()).toEqual(journeyIds.map((id) => `waymark-${STAGE}-${id}`).sort());
      for (const [id, m] of machines()) expect({ id, type: m.Properties?.StateMachineType }).toEqual({ id, type: 'STANDARD' });
    });

    it('keeps construct ids stable per journey id (Journey-<id>/StateMachine)', () => {
      expect([...stack.journeys.keys()].sort()).toEqual(journeyIds);
      for (const [id, journey] of stack.journeys) expect(journey.stateMachine.node.path).toBe(`${stack.stackName}/Journey-${id}/StateMachine`);
    });

    it('logs ALL events without execution data (profiles are PII) and traces every state machine', () => {
      for (const [id, m] of machines()) {
        expect({ id, logging: m.Properties?.LoggingConfiguration, tracing: m.Properties?.TracingConfiguration }).toEqual({
          id,
          logging: { Level: 'ALL', IncludeExecutionData: false, Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [expect.any(String), 'Arn'] } } }] },
          tracing: { Enabled: true },
        });
      }
    });

    it('leaves no ${placeholder} in any definition once its substitutions are applied', () => {
      for (const [id, m] of machines()) {
        const substitutions = m.Properties?.DefinitionSubstitutions as Record<string, unknown>;
        expect(Object.keys(substitutions).sort()).toEqual(Object.values(Placeholder).sort());
        let definition = flatten(m.Properties?.DefinitionString);
        expect(definition).toContain('${'); // the compiled ASL does use placeholders
        for (const name of Object.keys(substitutions)) definition = definition.split(`\${${name}}`).join('<substituted>');
        expect({ id, leftover: definition.match(/\$\{[^}]*\}/g) }).toEqual({ id, leftover: null });
      }
    });

    it('substitutes the configured sender, push application and the created configuration set', () => {
      const [configSetId] = resourcesOfType(json, 'AWS::SES::ConfigurationSet')[0];
      for (const [, m] of machines()) {
        expect(m.Properties?.DefinitionSubstitutions).toMatchObject({
          [Placeholder.senderEmail]: 'journeys@shop.example',
          [Placeholder.pushApplicationId]: 'a1b2c3d4e5f6',
          [Placeholder.emailConfigurationSet]: { Ref: configSetId },
          [Placeholder.prepareSendFunction]: { 'Fn::GetAtt': [expect.stringMatching(/^PrepareSendFunction/), 'Arn'] },
        });
      }
    });

    it('lets each journey role invoke the four step functions, send through SES/SNS/push and update the ledger', () => {
      for (const [id, policy] of resourcesOfType(json, 'AWS::IAM::Policy').filter(([pid]) => /^Journey(?!Registration).*RoleDefaultPolicy/.test(pid))) {
        const statements = policy.Properties?.PolicyDocument.Statement as Statement[];
        const actions = statements.flatMap((s) => [s.Action].flat());
        expect({ id, actions }).toEqual({
          id,
          actions: expect.arrayContaining(['lambda:InvokeFunction', 'ses:SendEmail', 'sns:Publish', 'mobiletargeting:SendMessages', 'dynamodb:UpdateItem']),
        });
        const invoke = statements.find((s) => s.Action === 'lambda:InvokeFunction')!;
        expect((invoke.Resource as unknown[]).length).toBe(4);
        const push = statements.find((s) => s.Action === 'mobiletargeting:SendMessages')!;
        expect((push.Resource as unknown[]).map(flatten)).toEqual(['arn:<token>:mobiletargeting:<token>:<token>:apps/a1b2c3d4e5f6', 'arn:<token>:mobiletargeting:<token>:<token>:apps/a1b2c3d4e5f6/messages']);
      }
    });

    it('registers every journey in the journeys table, re-put when its version changes', () => {
      const registrations = resourcesOfType(json, 'Custom::WaymarkJourneyRegistration');
      expect(registrations).toHaveLength(journeyIds.length);
      for (const journeyId of journeyIds) {
        const journey = stack.journeys.get(journeyId)!.journey;
        const registration = registrations.find(([rid]) => rid.startsWith(`Journey${journeyId.replace(/-/g, '')}Registration`));
        const create = flatten(registration?.[1].Properties?.Create);
        expect(create).toContain(`"sk":{"S":"JOURNEY#${journeyId}"}`);
        expect(create).toContain(`"version":{"S":"${journey.version}"}`);
        expect(create).toContain(`"apiTriggered":{"BOOL":${journey.journey.entry.kind === 'api'}}`);
        expect(create).toContain(`"physicalResourceId":{"id":"journey/${journeyId}/${journey.version}"}`);
        // Deleting the previous version's resource must not delete the item the new version just put.
        expect(flatten(registration?.[1].Properties?.Delete)).toContain('"ConditionExpression":"#version = :version"');
      }
    });
  });

  describe('routing', () => {
    it('sends every event whose source does not start with waymark. to route-event, with retries and a DLQ', () => {
      const [queueId] = resourcesOfType(json, 'AWS::SQS::Queue').find(([id]) => id.startsWith('RouteEventRuleDeadLetterQueue'))!;
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: { source: [{ 'anything-but': { prefix: 'waymark.' } }] },
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RouteEventFunction'), 'Arn'] },
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } },
            RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86400 },
          }),
        ],
      });
    });

    it('encrypts every queue and refuses non-TLS access to it', () => {
      const queues = resourcesOfType(json, 'AWS::SQS::Queue');
      expect(queues.length).toBeGreaterThanOrEqual(2);
      for (const [id, q] of queues) {
        expect({ id, sse: q.Properties?.SqsManagedSseEnabled ?? q.Properties?.KmsMasterKeyId }).toEqual({ id, sse: expect.anything() });
        template.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: id }],
          PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
        });
      }
    });
  });

  describe('api', () => {
    it('requires IAM (SigV4) authorization on every method but the two unsubscribe methods', () => {
      const methods = resourcesOfType(json, 'AWS::ApiGateway::Method');
      expect(methods.map(([, m]) => m.Properties?.HttpMethod).sort()).toEqual(ROUTES.map(([, verb]) => verb).sort());
      for (const [id, m] of methods) {
        const target = JSON.stringify(m.Properties?.Integration?.Uri);
        const expected = PUBLIC_FUNCTIONS.some((fn) => target.includes(fn)) ? 'NONE' : 'AWS_IAM';
        expect({ id, auth: m.Properties?.AuthorizationType }).toEqual({ id, auth: expected });
      }
      expect(methods.filter(([, m]) => m.Properties?.AuthorizationType === 'NONE')).toHaveLength(PUBLIC_FUNCTIONS.length);
    });

    it('sends SES bounces and complaints from the default bus to record-delivery-event, with a dead-letter queue', () => {
      template.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', {
        EventDestination: Match.objectLike({ Enabled: true, MatchingEventTypes: Match.arrayWith(['bounce', 'complaint']), EventBridgeDestination: Match.anyValue() }),
      });
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: { source: ['aws.ses'], 'detail-type': ['Email Bounced', 'Email Complaint Received'] },
        Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RecordDeliveryEventFunction'), 'Arn'] }, DeadLetterConfig: Match.anyValue() })],
      });
    });

    it('validates requests on every method', () => {
      const [validatorId] = resourcesOfType(json, 'AWS::ApiGateway::RequestValidator')[0];
      template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestBody: true, ValidateRequestParameters: true });
      for (const [id, m] of resourcesOfType(json, 'AWS::ApiGateway::Method')) expect({ id, validator: m.Properties?.RequestValidatorId }).toEqual({ id, validator: { Ref: validatorId } });
    });

    it('routes every API path to its own function', () => {
      const paths = resourcesOfType(json, 'AWS::ApiGateway::Resource').map(([, r]) => r.Properties?.PathPart).sort();
      expect(paths).toEqual(['attributes', 'consent', 'events', 'export', 'journeys', 'profiles', 'rejected', 'trigger', 'unsubscribe', '{id}', '{id}']);
      for (const [fn, verb] of ROUTES) {
        template.hasResourceProperties('AWS::ApiGateway::Method', {
          HttpMethod: verb,
          Integration: { Type: 'AWS_PROXY', Uri: { 'Fn::Join': ['', Match.arrayWith([{ 'Fn::GetAtt': [Match.stringLikeRegexp(`^${fn}`), 'Arn'] }])] } },
        });
      }
    });

    it('access-logs, traces and throttles the stage, without logging bodies', () => {
      template.hasResourceProperties('AWS::ApiGateway::Stage', {
        AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.anyValue() },
        TracingEnabled: true,
        MethodSettings: [Match.objectLike({ LoggingLevel: 'ERROR', DataTraceEnabled: false, ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 })],
      });
    });
  });

  describe('alarms', () => {
    const alarms = () => resourcesOfType(json, 'AWS::CloudWatch::Alarm');

    it('alarms on the first visible message of every queue', () => {
      for (const [queueId] of resourcesOfType(json, 'AWS::SQS::Queue')) {
        const alarm = alarms().find(([, a]) => JSON.stringify(a.Properties?.Dimensions ?? []).includes(`"${queueId}"`));
        expect({ queueId, alarm: alarm?.[1].Properties }).toEqual({
          queueId,
          alarm: expect.objectContaining({ MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' }),
        });
      }
    });

    it('alarms on failed executions of every journey and on route-event errors', () => {
      for (const [machineId] of resourcesOfType(json, 'AWS::StepFunctions::StateMachine')) {
        expect(alarms().some(([, a]) => a.Properties?.MetricName === 'ExecutionsFailed' && JSON.stringify(a.Properties?.Dimensions).includes(`"${machineId}"`))).toBe(true);
      }
      expect(alarms().some(([, a]) => a.Properties?.MetricName === 'Errors' && JSON.stringify(a.Properties?.Dimensions).includes('RouteEventFunction'))).toBe(true);
    });

    it('sends every alarm to the KMS-encrypted alarm topic', () => {
      const [snsTopicId, snsTopic] = resourcesOfType(json, 'AWS::SNS::Topic')[0];
      expect(snsTopic.Properties?.KmsMasterKeyId).toBeDefined();
      for (const [id, a] of alarms()) expect({ id, actions: a.Properties?.AlarmActions }).toEqual({ id, actions: [{ Ref: snsTopicId }] });
    });

    it('subscribes the alarm email only when one is configured', () => {
      template.resourceCountIs('AWS::SNS::Subscription', 0);
      const withEmail = Template.fromStack(waymarkStacks(undefined, { alarmEmail: 'ops@shop.example' }).application);
      withEmail.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@shop.example' });
    });
  });

  it('outputs the API URL', () => {
    template.hasOutput('ApiUrl', { Value: Match.anyValue() });
  });
});
