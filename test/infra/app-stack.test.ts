import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Placeholder } from '../../lambdas/core/journey';
import { EnvKey, TableEnvKey } from '../../lambdas/core/config/env-keys';
import { constructIdOf, entryPoints, type TableName } from '../../lib/entry-points';
import type { WaymarkAppStack } from '../../lib/app-stack';
import { loadDecisionFiles } from '../../lib/decisions';
import { loadSegments } from '../../lib/segments';
import { RULES_DIR } from '../../lib/rules';
import { catalogFilesOnDisk, effectiveStatements, flatten, journeyIdsOnDisk, OFFERS_DIR, PLACEMENTS_DIR, resourcesOfType, segmentFilesOnDisk, segmentIdsOnDisk, STAGE, waymarkStacks } from './waymark-app';

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
  ['ListSegmentsFunction', 'GET'],
  ['CreateSegmentFunction', 'POST'],
  ['GetSegmentFunction', 'GET'],
  ['PutSegmentFunction', 'PUT'],
  ['DeleteSegmentFunction', 'DELETE'],
  ['EvaluateSegmentFunction', 'POST'],
  ['GetSegmentSnapshotFunction', 'GET'],
  ['EstimateSegmentFunction', 'GET'],
  ['ListOffersFunction', 'GET'],
  ['CreateOfferFunction', 'POST'],
  ['GetOfferFunction', 'GET'],
  ['PutOfferFunction', 'PUT'],
  ['DeleteOfferFunction', 'DELETE'],
  ['ListPlacementsFunction', 'GET'],
  ['CreatePlacementFunction', 'POST'],
  ['GetPlacementFunction', 'GET'],
  ['PutPlacementFunction', 'PUT'],
  ['DeletePlacementFunction', 'DELETE'],
  ['DecideFunction', 'POST'],
  ['ListDecisionsFunction', 'GET'],
  ['ListProfileJourneysFunction', 'GET'],
  ['ExplainProfileJourneyFunction', 'GET'],
  ['GetJourneyFunction', 'GET'],
  ['GetJourneyReportFunction', 'GET'],
  ['ListRulesFunction', 'GET'],
  ['GetRuleFunction', 'GET'],
  ['PutRuleFunction', 'PUT'],
  ['DeleteRuleFunction', 'DELETE'],
  ['ListCampaignsFunction', 'GET'],
  ['GetCampaignFunction', 'GET'],
  ['StartCampaignRunFunction', 'POST'],
  ['ListCampaignRunsFunction', 'GET'],
  ['GetCampaignRunFunction', 'GET'],
  ['ControlCampaignRunFunction', 'POST'],
] as const;

/** The decisioning routes: path under the stage, verb, function. */
const DECISION_ROUTES = [
  ['/offers', 'GET', 'ListOffersFunction'],
  ['/offers', 'POST', 'CreateOfferFunction'],
  ['/offers/{id}', 'GET', 'GetOfferFunction'],
  ['/offers/{id}', 'PUT', 'PutOfferFunction'],
  ['/offers/{id}', 'DELETE', 'DeleteOfferFunction'],
  ['/placements', 'GET', 'ListPlacementsFunction'],
  ['/placements', 'POST', 'CreatePlacementFunction'],
  ['/placements/{id}', 'GET', 'GetPlacementFunction'],
  ['/placements/{id}', 'PUT', 'PutPlacementFunction'],
  ['/placements/{id}', 'DELETE', 'DeletePlacementFunction'],
  ['/decisions', 'POST', 'DecideFunction'],
  ['/profiles/{id}/decisions', 'GET', 'ListDecisionsFunction'],
] as const;

/** The segment routes: path under the stage, verb, function. */
const SEGMENT_ROUTES = [
  ['/segments', 'GET', 'ListSegmentsFunction'],
  ['/segments', 'POST', 'CreateSegmentFunction'],
  ['/segments/{id}', 'GET', 'GetSegmentFunction'],
  ['/segments/{id}', 'PUT', 'PutSegmentFunction'],
  ['/segments/{id}', 'DELETE', 'DeleteSegmentFunction'],
  ['/segments/{id}/evaluate', 'POST', 'EvaluateSegmentFunction'],
  ['/segments/{id}/snapshots/{snapshotId}', 'GET', 'GetSegmentSnapshotFunction'],
  ['/segments/{id}/estimate', 'GET', 'EstimateSegmentFunction'],
] as const;

const AUDIENCE_SCAN = `waymark-${STAGE}-audience-scan`;

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

  /** The logical id of the function of a construct id (`RouteEvent` → `RouteEventFunction<hash>`). */
  const lambdaIdOf = (constructId: string): string => {
    const ids = Object.keys(json.Resources).filter((id) => new RegExp(`^${constructId}Function[0-9A-F]{8}$`).test(id));
    expect({ constructId, ids: ids.length }).toEqual({ constructId, ids: 1 });
    return ids[0];
  };
  /** Every Allow statement in effect for the given function construct (its shared role's, its own log grant). */
  const statementsOf = (functionId: string): Statement[] => effectiveStatements(json, lambdaIdOf(functionId)) as Statement[];
  /** The entry points' function construct ids with a statement in effect that matches. */
  const functionsWith = (match: (s: Statement) => boolean): string[] =>
    entryPoints()
      .map(([name]) => constructIdOf(name))
      .filter((id) => statementsOf(id).some(match))
      .sort();
  const actionsOf = (functionId: string) => statementsOf(functionId).flatMap((s) => [s.Action].flat());
  /** The journeys' state machines (every state machine but the audience scan). */
  const journeyMachines = () => resourcesOfType(json, 'AWS::StepFunctions::StateMachine').filter(([, m]) => m.Properties?.StateMachineName !== AUDIENCE_SCAN);
  const audienceScanMachine = () => {
    const found = resourcesOfType(json, 'AWS::StepFunctions::StateMachine').filter(([, m]) => m.Properties?.StateMachineName === AUDIENCE_SCAN);
    expect(found).toHaveLength(1);
    return found[0];
  };
  /** The resources of the statements of a function's role that allow `action`. */
  const resourcesFor = (functionId: string, action: string) =>
    statementsOf(functionId)
      .filter((s) => [s.Action].flat().includes(action))
      .flatMap((s) => [s.Resource].flat());

  describe('functions', () => {
    // The entry points' functions (`<ConstructId>Function<hash>`), not CDK's own (custom resources, log retention).
    const ENTRY_ID = new RegExp(`^(${entryPoints().map(([name]) => constructIdOf(name)).join('|')})Function[0-9A-F]{8}$`);
    const ours = () => resourcesOfType(json, 'AWS::Lambda::Function').filter(([id]) => ENTRY_ID.test(id));

    it('has one function per handler, each on nodejs24.x, arm64, with active tracing', () => {
      // One function per entry point file in lambdas/handlers/, but those built and not yet wired into the app stack.
      const handlerFiles = readdirSync(join(__dirname, '..', '..', 'lambdas', 'handlers')).filter((f) => f.endsWith('.ts'));
      expect(ours()).toHaveLength(handlerFiles.length);
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

    it('gives no handler the name of a table its entry point does not declare (those ports fail when used)', () => {
      const declared = new Map(entryPoints().map(([name, e]) => [constructIdOf(name), e.uses.tables ?? {}]));
      for (const [id, f] of ours()) {
        const tables = declared.get(id.replace(/Function[0-9A-F]{8}$/, '')) as Partial<Record<TableName, unknown>>;
        const given = Object.keys(f.Properties?.Environment?.Variables ?? {}).filter((k) => (Object.values(TableEnvKey) as string[]).includes(k));
        expect({ id, given: given.sort() }).toEqual({ id, given: (Object.keys(tables) as TableName[]).map((t) => TableEnvKey[t]).sort() });
      }
    });

    it('gives the privacy key (data stack, retained, never rotated) to the functions that create profiles, use the suppression list or erase, and only them', () => {
      // The key itself lives in the data stack (test/infra/safe-redeploy.test.ts); this stack imports its ARN.
      const imported = (resource: unknown) => JSON.stringify(resource).includes('Fn::ImportValue') && JSON.stringify(resource).includes('PrivacyKeySecret');
      const holders = ours()
        .filter(([, f]) => f.Properties?.Environment.Variables[EnvKey.privacyKeySecretArn])
        .map(([id]) => id.replace(/Function[0-9A-F]{8}$/, ''))
        .sort();
      // CampaignStep: campaign batches read profiles and the suppression list like the send step.
      expect(holders).toEqual(['CampaignStep', 'EraseProfile', 'PrepareSend', 'RecordDeliveryEvent', 'RouteEvent', 'TriggerJourney', 'UpdateProfileAttributes']);
      for (const holder of holders) expect({ holder, granted: resourcesFor(holder, 'secretsmanager:GetSecretValue').some(imported) }).toEqual({ holder, granted: true });
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

    it('lets route-event, trigger-journey and the campaign step start every journey and nothing else start one', () => {
      const machines = journeyMachines().map(([id]) => ({ Ref: id }));
      for (const starter of ['RouteEvent', 'TriggerJourney']) {
        const start = statementsOf(starter).find((s) => [s.Action].flat().includes('states:StartExecution'));
        expect(start?.Resource).toEqual(expect.arrayContaining(machines));
        expect(actionsOf(starter)).toContain('states:DescribeExecution');
      }
      expect(actionsOf('RouteEvent')).toEqual(expect.arrayContaining(['states:StopExecution', 'states:SendTaskSuccess', 'states:SendTaskFailure']));
      for (const other of ['IngestEvent', 'ListJourneys', 'PrepareSend', 'RegisterWait', 'ResolveWait', 'LoadProfile']) expect(actionsOf(other)).not.toContain('states:StartExecution');
      // Beyond those two, only scan-profiles and update-profile-attributes start journeys (the ones entered on a segment; see the segments tests),
      // and the campaign step (a campaign's enter-journey batches).
      const journeyRefs = new Set(machines.map((m) => m.Ref));
      const starters = functionsWith((st) => [st.Action].flat().includes('states:StartExecution') && [st.Resource].flat().some((r) => journeyRefs.has((r as { Ref?: string }).Ref ?? '')));
      expect(starters).toEqual(['CampaignStep', 'RouteEvent', 'ScanProfiles', 'TriggerJourney', 'UpdateProfileAttributes']);
    });

    it('scopes DescribeExecution/StopExecution to the executions of this stage\'s journeys', () => {
      const describe = statementsOf('RouteEvent').find((s) => [s.Action].flat().includes('states:StopExecution'))!;
      const patterns = (describe.Resource as unknown[]).map(flatten).sort();
      expect(patterns).toEqual(journeyIds.map((id) => `arn:<token>:states:<token>:<token>:execution:waymark-${STAGE}-${id}:*`).sort());
    });
  });

  describe('journeys', () => {
    const machines = journeyMachines;

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
        // Every placeholder but the scan function, which only the audience scan uses.
        expect(Object.keys(substitutions).sort()).toEqual(Object.values(Placeholder).filter((p) => p !== Placeholder.scanProfilesFunction && p !== Placeholder.campaignStepFunction && p !== Placeholder.audienceBucket).sort());
        let definition = flatten(m.Properties?.DefinitionString);
        expect(definition).toContain('${'); // the compiled ASL does use placeholders
        for (const name of Object.keys(substitutions)) definition = definition.split(`\${${name}}`).join('<substituted>');
        expect({ id, leftover: definition.match(/\$\{[^}]*\}/g) }).toEqual({ id, leftover: null });
      }
    });

    it('substitutes the configured sender, push application, SMS origination identity and the created configuration sets', () => {
      const [configSetId] = resourcesOfType(json, 'AWS::SES::ConfigurationSet')[0];
      template.hasResourceProperties('AWS::SMSVOICE::ConfigurationSet', { ConfigurationSetName: 'waymark-test' });
      for (const [, m] of machines()) {
        expect(m.Properties?.DefinitionSubstitutions).toMatchObject({
          [Placeholder.senderEmail]: 'journeys@shop.example',
          [Placeholder.pushApplicationId]: 'a1b2c3d4e5f6',
          [Placeholder.smsOriginationIdentity]: 'pool-0123456789abcdef',
          [Placeholder.smsConfigurationSet]: 'waymark-test',
          [Placeholder.emailConfigurationSet]: { Ref: configSetId },
          [Placeholder.prepareSendFunction]: { 'Fn::GetAtt': [expect.stringMatching(/^PrepareSendFunction/), 'Arn'] },
        });
      }
    });

    it('lets each journey role invoke the five step functions, send through SES/End User Messaging SMS/push and update the ledger', () => {
      for (const [id, policy] of resourcesOfType(json, 'AWS::IAM::Policy').filter(([pid]) => /^Journey(?!Registration).*RoleDefaultPolicy/.test(pid))) {
        const statements = policy.Properties?.PolicyDocument.Statement as Statement[];
        const actions = statements.flatMap((s) => [s.Action].flat());
        expect({ id, actions }).toEqual({
          id,
          actions: expect.arrayContaining(['lambda:InvokeFunction', 'ses:SendEmail', 'sms-voice:SendTextMessage', 'mobiletargeting:SendMessages', 'dynamodb:UpdateItem']),
        });
        expect(actions).not.toContain('sns:Publish');
        // sms-voice:SendTextMessage on this account's End User Messaging SMS resources in this region, never "*".
        const sms = statements.find((s) => s.Action === 'sms-voice:SendTextMessage')!;
        expect([sms.Resource].flat().map(flatten)).toEqual(['arn:<token>:sms-voice:<token>:<token>:*']);
        const invoke = statements.find((s) => s.Action === 'lambda:InvokeFunction')!;
        expect((invoke.Resource as unknown[]).length).toBe(5);
        expect(invoke.Resource).toContainEqual({ 'Fn::GetAtt': [expect.stringMatching(/^DecideStepFunction/), 'Arn'] });
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
        expect(flatten(registration?.[1].Properties?.Delete)).toContain('"ConditionExpression":"#version = :version AND #deployedBy = :deployedBy"');
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

    it('sends every SES email event from the default bus to record-delivery-event, with a dead-letter queue', () => {
      const types = ['send', 'delivery', 'bounce', 'complaint', 'reject', 'open', 'click', 'renderingFailure'];
      template.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', {
        EventDestination: Match.objectLike({ Enabled: true, MatchingEventTypes: types, EventBridgeDestination: Match.anyValue() }),
      });
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: { source: ['aws.ses'], 'detail-type': ['Email Sent', 'Email Delivered', 'Email Bounced', 'Email Complaint Received', 'Email Rejected', 'Email Opened', 'Email Clicked', 'Email Rendering Failed'] },
        Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RecordDeliveryEventFunction'), 'Arn'] }, DeadLetterConfig: Match.anyValue() })],
      });
    });

    it('sends the SMS status events of this stage\'s configuration set to record-delivery-event, with the dead-letter queue', () => {
      const [queueId] = resourcesOfType(json, 'AWS::SQS::Queue').find(([id]) => id.startsWith('DeliveryEventRuleDeadLetterQueue'))!;
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.sms-voice'],
          'detail-type': ['Text Message Delivery Status Updated'],
          detail: { context: { configurationSet: ['waymark-test'] } },
        },
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RecordDeliveryEventFunction'), 'Arn'] },
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } },
            RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86400 },
          }),
        ],
      });
    });

    it('validates requests on every method', () => {
      const [validatorId] = resourcesOfType(json, 'AWS::ApiGateway::RequestValidator')[0];
      template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestBody: true, ValidateRequestParameters: true });
      for (const [id, m] of resourcesOfType(json, 'AWS::ApiGateway::Method')) expect({ id, validator: m.Properties?.RequestValidatorId }).toEqual({ id, validator: { Ref: validatorId } });
    });

    it('routes every API path to its own function', () => {
      const paths = resourcesOfType(json, 'AWS::ApiGateway::Resource').map(([, r]) => r.Properties?.PathPart).sort();
      expect(paths).toEqual(
        [
          ...['attributes', 'consent', 'estimate', 'evaluate', 'events', 'export', 'journeys', 'profiles', 'rejected', 'segments', 'snapshots', 'trigger', 'unsubscribe', '{id}', '{id}', '{id}', '{snapshotId}'],
          ...['offers', '{id}', 'placements', '{id}', 'decisions', 'decisions'],
          // /profiles/{id}/journeys/{journeyId}, /journeys/{id}/report, /rules/{id}
          ...['journeys', '{journeyId}', 'report', 'rules', '{id}'],
          // /campaigns/{id}/runs/{runId}/{action}
          ...['campaigns', '{id}', 'runs', '{runId}', '{action}'],
        ].sort(),
      );
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
        MethodSettings: Match.arrayWith([Match.objectLike({ ResourcePath: '/*', HttpMethod: '*', LoggingLevel: 'ERROR', DataTraceEnabled: false, ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 })]),
      });
    });

    it('gives the public /unsubscribe methods a throttle of their own, below the stage\'s, so a flood of junk tokens spares the IAM routes', () => {
      const [, stage] = resourcesOfType(json, 'AWS::ApiGateway::Stage')[0];
      const settings = stage.Properties?.MethodSettings as { ResourcePath: string; HttpMethod: string; ThrottlingRateLimit?: number; ThrottlingBurstLimit?: number }[];
      const unsubscribe = settings.filter((m) => m.ResourcePath === '/~1unsubscribe');
      expect(unsubscribe.map((m) => m.HttpMethod).sort()).toEqual(['GET', 'POST']);
      for (const m of unsubscribe) {
        expect(m).toMatchObject({ ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20, LoggingLevel: 'ERROR', DataTraceEnabled: false });
      }
      expect(settings).toHaveLength(3);
    });
  });

  /** The full path of an API resource (`/segments/{id}`), following ParentId up to the root. */
  const pathOf = (resourceId: string): string => {
    const resource = json.Resources[resourceId];
    const parent = resource.Properties.ParentId as { Ref?: string };
    return `${parent.Ref ? pathOf(parent.Ref) : ''}/${resource.Properties.PathPart}`;
  };
  const functionRefOf = (m: { Properties: Record<string, any> }) => JSON.stringify(m.Properties?.Integration?.Uri).match(/"([A-Za-z]+Function)[0-9A-F]{8}"/)?.[1];

  describe('segments', () => {

    it('serves every segment route with IAM (SigV4) authorization, each through its own function', () => {
      const methods = resourcesOfType(json, 'AWS::ApiGateway::Method')
        .filter(([, m]) => m.Properties?.ResourceId?.Ref && pathOf(m.Properties.ResourceId.Ref).startsWith('/segments'))
        .map(([, m]) => [pathOf(m.Properties?.ResourceId.Ref), m.Properties?.HttpMethod, functionRefOf(m as never), m.Properties?.AuthorizationType]);
      expect(methods.sort()).toEqual(SEGMENT_ROUTES.map((route) => [...route, 'AWS_IAM']).sort());
    });

    it('names the route in each segment function\'s description', () => {
      for (const [route, verb, fn] of SEGMENT_ROUTES) {
        const [, f] = resourcesOfType(json, 'AWS::Lambda::Function').find(([id]) => id.startsWith(fn))!;
        expect(f.Properties?.Description).toMatch(new RegExp(`^${verb} ${route.replace(/[{}]/g, '\\$&')}:`));
      }
    });

    it('has a Standard audience-scan state machine, logged and traced like the journeys, invoking scan-profiles only', () => {
      const [machineId, machine] = audienceScanMachine();
      expect(machine.Properties?.StateMachineType).toBe('STANDARD');
      expect(machine.Properties?.TracingConfiguration).toEqual({ Enabled: true });
      expect(machine.Properties?.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: false });
      expect(machine.Properties?.DefinitionSubstitutions).toEqual({ [Placeholder.scanProfilesFunction]: { 'Fn::GetAtt': [expect.stringMatching(/^ScanProfilesFunction/), 'Arn'] } });
      const definition = flatten(machine.Properties?.DefinitionString);
      expect(definition).toContain(`\${${Placeholder.scanProfilesFunction}}`);
      expect(definition.split(`\${${Placeholder.scanProfilesFunction}}`).join('').match(/\$\{[^}]*\}/g)).toBeNull();
      const roleRef = (machine.Properties?.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const statements = resourcesOfType(json, 'AWS::IAM::Policy')
        .filter(([, p]) => (p.Properties?.Roles as { Ref: string }[]).some((r) => r.Ref === roleRef))
        .flatMap(([, p]) => p.Properties?.PolicyDocument.Statement as Statement[]);
      const invoke = statements.filter((st) => [st.Action].flat().includes('lambda:InvokeFunction'));
      expect(invoke.flatMap((st) => [st.Resource].flat())).toEqual([{ 'Fn::GetAtt': [expect.stringMatching(/^ScanProfilesFunction/), 'Arn'] }]);
      expect(machineId).toMatch(/^AudienceScan/);
    });

    it('starts a re-check of time-based segments every hour, with a job id unique per run, retries and a dead-letter queue', () => {
      const [machineId] = audienceScanMachine();
      const [queueId] = resourcesOfType(json, 'AWS::SQS::Queue').find(([id]) => id.startsWith('AudienceRecheckRuleDeadLetterQueue'))!;
      const rules = resourcesOfType(json, 'AWS::Events::Rule').filter(([, r]) => r.Properties?.ScheduleExpression);
      expect(rules).toHaveLength(1);
      const [, rule] = rules[0];
      expect(rule.Properties?.ScheduleExpression).toBe('rate(1 hour)');
      expect(rule.Properties?.EventBusName).toBeUndefined(); // schedules run on the default bus
      const [target] = rule.Properties?.Targets as Record<string, any>[];
      expect(target).toMatchObject({
        Arn: { Ref: machineId },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } },
        RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 3600 },
      });
      const transformer = target.InputTransformer as { InputPathsMap: Record<string, string>; InputTemplate: string };
      const [[name, jsonPath]] = Object.entries(transformer.InputPathsMap);
      expect(jsonPath).toBe('$.id');
      // What EventBridge sends for an event with id "abc": the template with <name> replaced.
      const input = JSON.parse(transformer.InputTemplate.split(`<${name}>`).join('abc'));
      expect(input).toEqual({ job: { kind: 'recheck', jobId: 'recheck-abc' }, totalSegments: 8, parts: [0, 1, 2, 3, 4, 5, 6, 7] });
    });

    it('lets evaluate-segment start the audience scan, and nothing else but the schedule', () => {
      const [machineId] = audienceScanMachine();
      const [, evaluate] = resourcesOfType(json, 'AWS::Lambda::Function').find(([id]) => id.startsWith('EvaluateSegmentFunction'))!;
      expect(evaluate.Properties?.Environment.Variables[EnvKey.audienceScanStateMachineArn]).toEqual({ Ref: machineId });
      expect(resourcesFor('EvaluateSegment', 'states:StartExecution')).toEqual([{ Ref: machineId }]);
      const startsScan = (st: Statement) => [st.Action].flat().includes('states:StartExecution') && JSON.stringify(st.Resource).includes(`"${machineId}"`);
      const starters = resourcesOfType(json, 'AWS::IAM::Policy').filter(([, p]) => (p.Properties?.PolicyDocument.Statement as Statement[]).some(startsScan));
      // Function roles hold their grants inline (lib/constructs/function-roles.ts): counted per function.
      expect([...starters.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')), ...functionsWith(startsScan)].sort()).toEqual([
        'AudienceScanStateMachineEventsRoleDefaultPolicy',
        'EvaluateSegment',
      ]);
    });

    it('lets scan-profiles Scan and write the profiles table, announce transitions, and start/stop only the journeys that use segments', () => {
      const actions = actionsOf('ScanProfiles');
      expect(actions).toEqual(expect.arrayContaining(['dynamodb:Scan', 'dynamodb:PutItem', 'events:PutEvents', 'states:StartExecution', 'states:StopExecution', 'states:DescribeExecution']));
      const entry = [...stack.journeys.values()].filter((m) => m.journey.journey.entry.kind === 'segment');
      const exit = [...stack.journeys.values()].filter((m) => m.journey.journey.exitCriteria?.some((c) => c.kind === 'segment-exited'));
      expect(entry.length).toBeGreaterThan(0);
      expect(exit.length).toBeGreaterThan(0);
      const ref = (m: (typeof entry)[number]) => ({ Ref: stack.getLogicalId(m.stateMachine.node.defaultChild as never) });
      expect(resourcesFor('ScanProfiles', 'states:StartExecution')).toEqual(entry.map(ref));
      const pattern = (m: (typeof entry)[number]) => `arn:<token>:states:<token>:<token>:execution:waymark-${STAGE}-${m.journey.journey.id}:*`;
      expect(resourcesFor('ScanProfiles', 'states:StopExecution').map(flatten).sort()).toEqual(exit.map(pattern).sort());
      expect(resourcesFor('ScanProfiles', 'states:DescribeExecution').map(flatten).sort()).toEqual([...new Set([...entry, ...exit].map(pattern))].sort());
      const [, scan] = resourcesOfType(json, 'AWS::Lambda::Function').find(([id]) => id.startsWith('ScanProfilesFunction'))!;
      expect(scan.Properties?.Environment.Variables[EnvKey.eventBusName]).toBeDefined();
    });

    it('keeps the segment readers read-only and lets only the segment writers write the journeys table', () => {
      for (const reader of ['ListSegments', 'GetSegment', 'GetSegmentSnapshot', 'EstimateSegment']) {
        expect({ reader, writes: actionsOf(reader).filter((a) => /^dynamodb:(Put|Update|Delete|BatchWrite)/.test(a)) }).toEqual({ reader, writes: [] });
      }
      for (const writer of ['CreateSegment', 'PutSegment', 'DeleteSegment']) expect(actionsOf(writer)).toContain('dynamodb:PutItem');
      expect(actionsOf('EstimateSegment')).toContain('dynamodb:Scan');
      for (const fn of ['ListSegments', 'GetSegment', 'CreateSegment', 'PutSegment', 'DeleteSegment', 'GetSegmentSnapshot', 'EstimateSegment']) {
        expect({ fn, sfn: actionsOf(fn).filter((a) => a.startsWith('states:')) }).toEqual({ fn, sfn: [] });
      }
    });

    it('registers every segment file in the journeys table: pk SEGMENTS, sk SEGMENT#<id>, the definition as a JSON string, origin file, version 1', () => {
      const files = segmentFilesOnDisk();
      const registrations = resourcesOfType(json, 'Custom::WaymarkSegmentRegistration');
      expect(registrations).toHaveLength(files.size);
      expect([...stack.segments.keys()].sort()).toEqual(segmentIdsOnDisk());
      for (const [segmentId, file] of files) {
        const registration = registrations.find(([rid]) => rid.startsWith(`Segment${segmentId.replace(/-/g, '')}Registration`));
        const create = JSON.parse(flatten(registration?.[1].Properties?.Create).replace(/<token>/g, 'TABLE')) as {
          action: string;
          parameters: { Item: Record<string, Record<string, unknown>> };
          physicalResourceId: { id: string };
        };
        expect(create.action).toBe('putItem');
        expect(create.physicalResourceId).toEqual({ id: `segment/${segmentId}` });
        const { definition, updatedAt, contentHash, ...item } = create.parameters.Item;
        expect(item).toEqual({ pk: { S: 'SEGMENTS' }, sk: { S: `SEGMENT#${segmentId}` }, origin: { S: 'file' }, version: { N: '1' }, deployedBy: { S: stack.node.path } });
        expect(JSON.parse(definition.S as string)).toEqual(file);
        expect(contentHash.S).toMatch(/^[0-9a-f]{64}$/);
        // A constant by default, so two synths give the same template.
        expect(updatedAt.S).toBe('deployed');
        // Removing the file deletes the item, but never one that is no longer the file's.
        expect(flatten(registration?.[1].Properties?.Delete)).toContain('"ConditionExpression":"#origin = :file AND #deployedBy = :deployedBy"');
      }
    });

    it('writes the configured updatedAt with every file segment', () => {
      const fixed = Template.fromStack(waymarkStacks(undefined, { segmentsUpdatedAt: '2025-01-02T03:04:05.000Z' }).application).toJSON() as typeof json;
      const registrations = resourcesOfType(fixed, 'Custom::WaymarkSegmentRegistration');
      expect(registrations.length).toBeGreaterThan(0);
      for (const [, r] of registrations) expect(flatten(r.Properties?.Create)).toContain('"updatedAt":{"S":"2025-01-02T03:04:05.000Z"}');
    });

    it('refuses a journey whose id is the audience scan\'s', () => {
      const [journey] = stack.journeys.values();
      const clash = { ...journey.journey, journey: { ...journey.journey.journey, id: 'audience-scan' } };
      expect(() => waymarkStacks(undefined, { journeys: [clash] })).toThrow(/journey id "audience-scan" is reserved/);
    });
  });

  describe('decisions', () => {
    /** Which tables (by data-stack construct id) the DynamoDB statements of a function's role name, per access. */
    const tablesOf = (functionId: string, access: 'read' | 'write') =>
      [
        ...new Set(
          statementsOf(functionId)
            .filter((st) => [st.Action].flat().some((a) => (access === 'read' ? /^dynamodb:(Get|Query|BatchGet)/ : /^dynamodb:(Put|Update|Delete|BatchWrite)/).test(a)))
            .flatMap((st) => [st.Resource].flat())
            .map((r) => JSON.stringify(r).match(/(Profiles|Journeys|Runtime)Table/)?.[0]),
        ),
      ].sort();

    it('serves every decisioning route with IAM (SigV4) authorization, each through its own function', () => {
      const prefixes = ['/offers', '/placements', '/decisions', '/profiles/{id}/decisions'];
      const methods = resourcesOfType(json, 'AWS::ApiGateway::Method')
        .filter(([, m]) => m.Properties?.ResourceId?.Ref && prefixes.some((p) => pathOf(m.Properties?.ResourceId.Ref).startsWith(p)))
        .map(([, m]) => [pathOf(m.Properties?.ResourceId.Ref), m.Properties?.HttpMethod, functionRefOf(m as never), m.Properties?.AuthorizationType]);
      expect(methods.sort()).toEqual(DECISION_ROUTES.map((route) => [...route, 'AWS_IAM']).sort());
    });

    it('names the route in each decisioning function\'s description', () => {
      for (const [route, verb, fn] of DECISION_ROUTES) {
        const [, f] = resourcesOfType(json, 'AWS::Lambda::Function').find(([id]) => id.startsWith(fn))!;
        expect(f.Properties?.Description).toMatch(new RegExp(`^${verb} ${route.replace(/[{}]/g, '\\$&')}:`));
      }
    });

    it('lets decide and decide-step read profiles and the catalog and write caps and the decision log (runtime table), nothing more', () => {
      for (const decider of ['Decide', 'DecideStep']) {
        expect({ decider, reads: tablesOf(decider, 'read'), writes: tablesOf(decider, 'write') }).toEqual({
          decider,
          reads: ['JourneysTable', 'ProfilesTable', 'RuntimeTable'],
          writes: ['RuntimeTable'],
        });
        expect({ decider, other: actionsOf(decider).filter((a) => /^(states|events|lambda|ses|sns):/.test(a)) }).toEqual({ decider, other: [] });
      }
    });

    it('keeps list-decisions to reading the runtime table', () => {
      expect({ reads: tablesOf('ListDecisions', 'read'), writes: tablesOf('ListDecisions', 'write') }).toEqual({ reads: ['RuntimeTable'], writes: [] });
    });

    it('lets the offer and placement readers read, and the writers write, the journeys table only', () => {
      for (const reader of ['ListOffers', 'GetOffer', 'ListPlacements', 'GetPlacement']) {
        expect({ reader, reads: tablesOf(reader, 'read'), writes: tablesOf(reader, 'write') }).toEqual({ reader, reads: ['JourneysTable'], writes: [] });
      }
      for (const writer of ['CreateOffer', 'PutOffer', 'DeleteOffer', 'CreatePlacement', 'PutPlacement', 'DeletePlacement']) {
        expect({ writer, reads: tablesOf(writer, 'read'), writes: tablesOf(writer, 'write') }).toEqual({ writer, reads: ['JourneysTable'], writes: ['JourneysTable'] });
      }
    });

    it('substitutes decide-step for ${DecideFunctionArn} in every journey, and a journey with a decide node uses it', () => {
      for (const [, m] of journeyMachines()) {
        expect(m.Properties?.DefinitionSubstitutions[Placeholder.decideFunction]).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^DecideStepFunction/), 'Arn'] });
      }
      const deciding = [...stack.journeys.values()].filter((j) => j.journey.journey.nodes.some((n) => n.kind === 'decide'));
      expect(deciding.length).toBeGreaterThan(0);
      for (const j of deciding) expect(JSON.stringify(j.journey.asl)).toContain(`\${${Placeholder.decideFunction}}`);
    });

    for (const [kind, dir, pk, resourceType] of [
      ['offer', OFFERS_DIR, 'OFFERS', 'Custom::WaymarkOfferRegistration'],
      ['placement', PLACEMENTS_DIR, 'PLACEMENTS', 'Custom::WaymarkPlacementRegistration'],
      ['rule', RULES_DIR, 'RULES', 'Custom::WaymarkRuleRegistration'],
    ] as const) {
      it(`registers every ${kind} file in the journeys table: pk ${pk}, the definition as a JSON string with its hash, origin file, version 1`, () => {
        const files = catalogFilesOnDisk(dir);
        expect(files.size).toBeGreaterThan(0);
        const registrations = resourcesOfType(json, resourceType);
        expect(registrations).toHaveLength(files.size);
        expect([...{ offer: stack.offers, placement: stack.placements, rule: stack.rules }[kind].keys()].sort()).toEqual([...files.keys()].sort());
        const construct = { offer: 'Offer', placement: 'Placement', rule: 'Rule' }[kind];
        for (const [id, file] of files) {
          const registration = registrations.find(([rid]) => rid.startsWith(`${construct}${id.replace(/-/g, '')}Registration`));
          const create = JSON.parse(flatten(registration?.[1].Properties?.Create).replace(/<token>/g, 'TABLE')) as {
            action: string;
            parameters: { Item: Record<string, Record<string, string>> };
            physicalResourceId: { id: string };
          };
          expect(create.action).toBe('putItem');
          expect(create.physicalResourceId).toEqual({ id: `${kind}/${id}` });
          const { definition, contentHash, ...item } = create.parameters.Item;
          expect(item).toEqual({ pk: { S: pk }, sk: { S: `${kind.toUpperCase()}#${id}` }, origin: { S: 'file' }, version: { N: '1' }, updatedAt: { S: 'deployed' }, deployedBy: { S: stack.node.path } });
          // A string, not a map: the store parses it; the file's fields are all there (defaults filled in).
          expect(Object.keys(definition)).toEqual(['S']);
          expect(JSON.parse(definition.S)).toMatchObject(file);
          expect(contentHash).toEqual({ S: createHash('sha256').update(definition.S).digest('hex') });
          expect(flatten(registration?.[1].Properties?.Delete)).toContain('"ConditionExpression":"#origin = :file AND #deployedBy = :deployedBy"');
        }
      });
    }

    it('synthesizes the same offer, placement and rule items every time (no synth time in them)', () => {
      const again = Template.fromStack(waymarkStacks().application).toJSON() as typeof json;
      for (const type of ['Custom::WaymarkOfferRegistration', 'Custom::WaymarkPlacementRegistration', 'Custom::WaymarkRuleRegistration']) {
        expect(resourcesOfType(again, type).map(([, r]) => r.Properties?.Create)).toEqual(resourcesOfType(json, type).map(([, r]) => r.Properties?.Create));
      }
    });

    it('fails synth naming the file when an offer names an unknown placement or lacks required content', () => {
      const dir = mkdtempSync(join(tmpdir(), 'waymark-offers-'));
      try {
        writeFileSync(join(dir, 'bad.json'), JSON.stringify({ schemaVersion: 1, id: 'bad', name: 'Bad', placements: { nowhere: { title: 'x' }, 'web-banner': { title: 'x' } } }));
        writeFileSync(join(dir, 'broken.json'), JSON.stringify({ schemaVersion: 1, id: 'broken', name: 'Broken', placements: { push: {} }, caps: { perProfile: { count: 1, period: 'soon' } } }));
        let message = '';
        try {
          loadDecisionFiles({ offers: dir, placements: PLACEMENTS_DIR });
        } catch (error) {
          message = (error as Error).message;
        }
        expect(message).toMatch(/bad\.json: placements\.nowhere: unknown placement/);
        expect(message).toMatch(/bad\.json: placements\.web-banner\.imageUrl:/);
        expect(message).toMatch(/broken\.json: caps\.perProfile\.period:/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('refuses a journey whose decide node names a placement no file defines', () => {
      const files = loadDecisionFiles();
      const withoutPlacements = { offers: [], placements: files.placements.filter((p) => p.id !== 'push' && p.id !== 'email-hero' && p.id !== 'web-banner') };
      expect(() => waymarkStacks(undefined, { decisionFiles: withoutPlacements })).toThrow(
        /journeys name segments or placements that are not deployed: journey "[a-z-]+": nodes\[\d+\] \(node "[a-z0-9-]+"\)\.placement: unknown placement/,
      );
    });

    it('refuses a journey that names a segment no file defines (entry, exit criteria, branch)', () => {
      const segments = loadSegments().filter((s) => s.id !== 'loyalty-members' && s.id !== 'loyalty-member-day');
      let message = '';
      try {
        waymarkStacks(undefined, { segments });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toContain('journey "loyalty-tier": entry.segment: unknown segment "loyalty-members"');
      expect(message).toContain('journey "loyalty-tier": exitCriteria[0].segment: unknown segment "loyalty-members"');
      expect(message).toContain('journey "loyalty-member-day": entry.segment: unknown segment "loyalty-member-day"');
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

    it('alarms on failed executions of every journey and of the audience scan, and on route-event errors', () => {
      for (const [machineId] of resourcesOfType(json, 'AWS::StepFunctions::StateMachine')) {
        expect(alarms().some(([, a]) => a.Properties?.MetricName === 'ExecutionsFailed' && JSON.stringify(a.Properties?.Dimensions).includes(`"${machineId}"`))).toBe(true);
      }
      expect(alarms().some(([, a]) => a.Properties?.MetricName === 'Errors' && JSON.stringify(a.Properties?.Dimensions).includes('RouteEventFunction'))).toBe(true);
      const [machineId] = audienceScanMachine();
      expect(alarms().some(([, a]) => a.Properties?.MetricName === 'ExecutionsTimedOut' && JSON.stringify(a.Properties?.Dimensions).includes(`"${machineId}"`))).toBe(true);
    });

    it('alarms when more than a tenth of the messages the providers were asked to send failed or have an unknown outcome', () => {
      const rate = alarms().filter(([, a]) => (a.Properties?.Metrics as { Expression?: string }[] | undefined)?.some((m) => m.Expression?.includes('failed')));
      expect(rate).toHaveLength(1);
      const metrics = rate[0][1].Properties?.Metrics as { Id: string; Expression?: string; MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions: unknown[] } } }[];
      const outcomes = metrics.filter((m) => m.MetricStat).map((m) => ({ id: m.Id, ...m.MetricStat!.Metric }));
      expect(outcomes.sort((a, b) => a.id.localeCompare(b.id))).toEqual(
        ['failed', 'sent', 'unknown'].map((outcome) => ({ id: outcome, Namespace: `Waymark/${STAGE}`, MetricName: 'Deliveries', Dimensions: [{ Name: 'Outcome', Value: outcome }] })),
      );
      expect(rate[0][1].Properties).toMatchObject({ Threshold: 10, ComparisonOperator: 'GreaterThanThreshold' });
    });

    it('lets each journey count its delivery outcomes in the stage namespace, and nowhere else', () => {
      for (const [id, policy] of resourcesOfType(json, 'AWS::IAM::Policy').filter(([pid]) => /^Journey(?!Registration).*RoleDefaultPolicy/.test(pid))) {
        const statements = policy.Properties?.PolicyDocument.Statement as (Statement & { Condition?: unknown })[];
        const put = statements.filter((s) => [s.Action].flat().includes('cloudwatch:PutMetricData'));
        expect({ id, put }).toEqual({ id, put: [expect.objectContaining({ Condition: { StringEquals: { 'cloudwatch:namespace': `Waymark/${STAGE}` } } })] });
      }
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
