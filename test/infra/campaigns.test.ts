import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Fn, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CAMPAIGNS_DIR, CampaignCatalogError, campaignCatalogOf, compileForDeploy, loadCampaigns } from '../../lib/campaigns';
import { loadDecisionFiles } from '../../lib/decisions';
import { loadJourneys } from '../../lib/journeys';
import { loadSegments } from '../../lib/segments';
import { scheduleExpressionOf } from '../../lib/constructs/campaign-state-machine';
import { MAX_CAMPAIGNS } from '../../lib/constructs/campaigns-stack';
import { FIXTURE_CAMPAIGNS, handWrittenDefinition } from './campaign-fixtures';
import { resourcesOfType, STAGE, testApp, waymarkStacks } from './waymark-app';
import { FunctionRole } from '../../lib/constructs/function-roles';
import { WaymarkFunction } from '../../lib/constructs/waymark-function';
import { bindEntryPoint, environmentOf, type EntryPointResources } from '../../lib/features/wiring';
import { ENTRY_POINTS, type EntryPoint } from '../../lib/entry-points';

type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string; DependsOn?: string[] };
type Json = { Resources: Record<string, Resource>; Outputs?: Record<string, unknown>; Parameters?: Record<string, unknown> };
type Statement = { Action: string | string[]; Resource: unknown; Effect: string; Condition?: unknown };

const BUCKET_ARN = { 'Fn::ImportValue': `Waymark-${STAGE}-Data:AudienceBucketArn` };
const BUCKET_NAME = { 'Fn::ImportValue': `Waymark-${STAGE}-Data:AudienceBucketName` };

describe('campaigns: one state machine, schedule and registry item per campaign file (Campaigns nested stack)', () => {
  let stacks: ReturnType<typeof waymarkStacks>;
  let nested: Json;
  let app: Json;
  beforeAll(() => {
    stacks = waymarkStacks(undefined, { campaigns: FIXTURE_CAMPAIGNS });
    nested = Template.fromStack(stacks.application.campaigns.campaignsStack!).toJSON() as Json;
    app = Template.fromStack(stacks.application).toJSON() as Json;
  });

  const machineOf = (campaignId: string) => {
    const found = resourcesOfType(nested, 'AWS::StepFunctions::StateMachine').filter(([, m]) => m.Properties?.StateMachineName === `waymark-${STAGE}_c-${campaignId}`);
    expect(found).toHaveLength(1);
    return found[0] as [string, Resource];
  };
  // A role's policies: AWS::IAM::Policy resources attached to it, and its inline policies (the campaigns' roles).
  const statementsOfRole = (roleId: string): Statement[] => [
    ...resourcesOfType(nested, 'AWS::IAM::Policy')
      .filter(([, p]) => (p.Properties?.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
      .flatMap(([, p]) => p.Properties?.PolicyDocument.Statement as Statement[]),
    ...((nested.Resources[roleId]?.Properties?.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[]).flatMap((p) => p.PolicyDocument.Statement),
  ];
  const flat = (value: unknown) => JSON.stringify(value);
  /** The one resource of a type under the campaign's construct (`Campaign-<id>` → logical ids `Campaign<id>…`). */
  const campaignResource = (campaignId: string, child: string, type: string): [string, Resource] => {
    const prefix = `Campaign${campaignId.replace(/-/g, '')}${child}`;
    const found = resourcesOfType(nested, type).filter(([id]) => id.startsWith(prefix));
    expect(found).toHaveLength(1);
    return found[0] as [string, Resource];
  };
  const aliasIdOf = (campaignId: string) => campaignResource(campaignId, 'LiveAlias', 'AWS::StepFunctions::StateMachineAlias')[0];
  const scheduleIdOf = (campaignId: string) =>
    resourcesOfType(nested, 'AWS::Scheduler::Schedule').find(([, s]) => flat(s.Properties?.Target.Arn) === flat({ 'Fn::GetAtt': [aliasIdOf(campaignId), 'Arn'] }))![0];

  it('deploys the compiled definition as it is, a Standard state machine per campaign named waymark-<stage>_c-<id>', () => {
    for (const { campaign, definition } of FIXTURE_CAMPAIGNS) {
      const [, machine] = machineOf(campaign.id);
      expect(machine.Properties.StateMachineType).toBe('STANDARD');
      expect(JSON.parse(machine.Properties.DefinitionString)).toEqual(definition);
      expect(machine.Properties.TracingConfiguration).toEqual({ Enabled: true });
      expect(machine.Properties.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: false });
    }
    // Campaigns live in the nested stack only; the app stack holds none.
    expect(resourcesOfType(app, 'AWS::StepFunctions::StateMachine').filter(([, m]) => flat(m.Properties?.StateMachineName).includes('_c-'))).toEqual([]);
  });

  it('substitutes exactly ${CampaignStepFunctionArn} (the campaign-step function) and ${AudienceBucketName} (the data stack bucket)', () => {
    const [, machine] = machineOf('newsletter');
    const substitutions = machine.Properties.DefinitionSubstitutions as Record<string, unknown>;
    expect(Object.keys(substitutions).sort()).toEqual(['AudienceBucketName', 'CampaignStepFunctionArn']);
    expect(substitutions.AudienceBucketName).toEqual(BUCKET_NAME);
    // The function is the parent's: a nested stack parameter fed with the campaign-step function's ARN.
    const parameter = (substitutions.CampaignStepFunctionArn as { Ref: string }).Ref;
    const nestedStackResource = resourcesOfType(app, 'AWS::CloudFormation::Stack')[0][1];
    const [functionId] = resourcesOfType(app, 'AWS::Lambda::Function').find(([id]) => /^CampaignStepFunction[0-9A-F]{8}$/.test(id))!;
    expect(nestedStackResource.Properties!.Parameters[parameter]).toEqual({ 'Fn::GetAtt': [functionId, 'Arn'] });
  });

  it('refuses a definition with a placeholder a campaign may not use', () => {
    const [first] = FIXTURE_CAMPAIGNS;
    const definition = { ...first.definition, States: { ...first.definition.States, Start: { Type: 'Task', Resource: '${PrepareSendFunctionArn}', End: true } } };
    expect(() => waymarkStacks(undefined, { campaigns: [{ campaign: first.campaign, definition }] })).toThrow(/\$\{PrepareSendFunctionArn\}/);
  });

  describe("each campaign's role: what its Distributed Maps need (IAM policies for using Distributed Map states)", () => {
    let statements: Statement[];
    let name: string;
    beforeAll(() => {
      const [, machine] = machineOf('newsletter');
      name = machine.Properties.StateMachineName;
      statements = statementsOfRole((machine.Properties.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]);
    });
    const resourcesFor = (action: string) => statements.filter((s) => [s.Action].flat().includes(action)).map((s) => flat(s.Resource));

    it('invokes only the campaign-step function', () => {
      expect(resourcesFor('lambda:InvokeFunction')).toEqual([expect.stringMatching(/^\{"Ref":"referenceto.*CampaignStep.*Arn"\}$/)]);
    });

    it('starts its own child workflows and describes or stops only its own executions (named, no Ref to itself)', () => {
      expect(resourcesFor('states:StartExecution')).toEqual([expect.stringContaining(`:stateMachine:${name}"`)]);
      const onExecutions = resourcesFor('states:StopExecution');
      expect(onExecutions).toEqual(resourcesFor('states:DescribeExecution'));
      expect(onExecutions).toHaveLength(1);
      expect(onExecutions[0]).toContain(`:execution:${name}:*`);
      expect(onExecutions[0]).toContain(`:execution:${name}/*`);
      expect(statements.flatMap((s) => [s.Action].flat()).filter((a) => a.startsWith('states:')).sort()).toEqual([
        'states:DescribeExecution',
        'states:StartExecution',
        'states:StopExecution',
      ]);
    });

    it('reads the run sets under runs/ (ItemReader) and writes results only where its ResultWriters write them', () => {
      // compileCampaign's ResultWriter Prefix: runs/<campaignId>/results/<step>.
      const results = flat({ 'Fn::Join': ['', [BUCKET_ARN, '/runs/newsletter/results/*']] });
      expect(resourcesFor('s3:PutObject')).toEqual([results]);
      expect(resourcesFor('s3:GetObject').sort()).toEqual([results, flat({ 'Fn::Join': ['', [BUCKET_ARN, '/runs/*']] })].sort());
      const s3Actions = statements.flatMap((s) => [s.Action].flat()).filter((a) => a.startsWith('s3:'));
      expect([...new Set(s3Actions)].sort()).toEqual(['s3:AbortMultipartUpload', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:PutObject']);
      expect(resourcesFor('kms:GenerateDataKey')).toHaveLength(1);
    });

    it('builds the audience with a Distributed Map of its own children (the same StartExecution on itself)', () => {
      const [, machine] = machineOf('newsletter');
      const audience = JSON.parse(machine.Properties.DefinitionString).States.Audience;
      expect(audience).toMatchObject({ ItemsPath: '$.parts', ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } } });
      expect(resourcesFor('states:StartExecution')).toHaveLength(1);
    });

    it('refuses at synth a ResultWriter writing outside runs/<campaignId>/results/ (the role could not write there)', () => {
      const [first] = FIXTURE_CAMPAIGNS;
      const definition = JSON.parse(JSON.stringify(first.definition).replaceAll(`runs/${first.campaign.id}/results/`, 'campaign-results/'));
      expect(() => waymarkStacks(undefined, { campaigns: [{ campaign: first.campaign, definition }] })).toThrow(
        /ResultWriter Prefix "campaign-results\/welcome" is not under "runs\/spring-sale\/results\/"/,
      );
    });

    it('has no other service than Lambda, Step Functions, S3, the data key, logs and X-Ray', () => {
      const families = new Set(statements.flatMap((s) => [s.Action].flat()).map((a) => a.split(':')[0]));
      expect([...families].sort()).toEqual(['kms', 'lambda', 'logs', 's3', 'states', 'xray']);
    });
  });

  describe('schedules (EventBridge Scheduler)', () => {
    const schedules = () => resourcesOfType(nested, 'AWS::Scheduler::Schedule');
    // Every schedule starts its campaign's runs on the live alias (a deploy moves it; runs in flight keep their version).
    const scheduleOf = (campaignId: string) =>
      schedules().filter(([, s]) => flat(s.Properties?.Target.Arn) === flat({ 'Fn::GetAtt': [aliasIdOf(campaignId), 'Arn'] }));

    it('gives each scheduled campaign one schedule and an on-demand campaign none', () => {
      expect(schedules()).toHaveLength(2);
      expect(scheduleOf('spring-sale')).toHaveLength(0);
      expect(scheduleOf('launch-day')).toHaveLength(1);
      expect(scheduleOf('newsletter')).toHaveLength(1);
    });

    it('once: at(...) in the zone; recurring: cron(...) in the zone with start and end as instants; no flexible window', () => {
      const [[, once]] = scheduleOf('launch-day');
      expect(once.Properties).toMatchObject({
        ScheduleExpression: 'at(2027-03-01T09:30:00)',
        ScheduleExpressionTimezone: 'Europe/Berlin',
        FlexibleTimeWindow: { Mode: 'OFF' },
        State: 'ENABLED',
      });
      const [[, recurring]] = scheduleOf('newsletter');
      // Berlin is UTC+1 in January and December.
      expect(recurring.Properties).toMatchObject({
        ScheduleExpression: 'cron(0 9 ? * MON *)',
        ScheduleExpressionTimezone: 'Europe/Berlin',
        StartDate: '2027-01-03T23:00:00Z',
        EndDate: '2027-12-31T22:59:00Z',
        FlexibleTimeWindow: { Mode: 'OFF' },
      });
    });

    it('starts the execution with the campaign id, the schedule trigger and the scheduled time as the occurrence', () => {
      const [[, schedule]] = scheduleOf('newsletter');
      expect(JSON.parse(schedule.Properties!.Target.Input)).toEqual({ campaignId: 'newsletter', trigger: 'schedule', occurrence: '<aws.scheduler.scheduled-time>' });
    });

    it('retries for an hour, then dead-letters to an encrypted queue the schedule role may send to', () => {
      const [[, schedule]] = scheduleOf('newsletter');
      expect(schedule.Properties!.Target.RetryPolicy).toEqual({ MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 3600 });
      const queueId = schedule.Properties!.Target.DeadLetterConfig.Arn['Fn::GetAtt'][0] as string;
      expect(nested.Resources[queueId]).toMatchObject({ Type: 'AWS::SQS::Queue', Properties: { SqsManagedSseEnabled: true } });
      const roleId = schedule.Properties!.Target.RoleArn['Fn::GetAtt'][0] as string;
      const role = nested.Resources[roleId];
      expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        expect.objectContaining({ Principal: { Service: 'scheduler.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } }),
      ]);
      const statements = statementsOfRole(roleId);
      const started = statements.filter((s) => [s.Action].flat().includes('states:StartExecution')).flatMap((s) => [s.Resource].flat());
      expect(started.sort()).toEqual([{ Ref: machineOf('launch-day')[0] }, { Ref: machineOf('newsletter')[0] }].sort((a, b) => flat(a).localeCompare(flat(b))));
      expect(statements.some((s) => [s.Action].flat().includes('sqs:SendMessage') && flat(s.Resource).includes(queueId))).toBe(true);
      // The dead-letter queue alarms in the app stack like the others.
      expect(resourcesOfType(app, 'AWS::CloudWatch::Alarm').filter(([id]) => id.startsWith('CampaignScheduleDeadLetterQueueAlarm'))).toHaveLength(1);
    });

    it('writes the expressions of every schedule type (and none for on-demand)', () => {
      expect(scheduleExpressionOf({ type: 'on-demand' })).toBeUndefined();
      expect(scheduleExpressionOf({ type: 'once', at: '2027-06-30T23:59:59', timeZone: 'America/New_York' })).toEqual({ expression: 'at(2027-06-30T23:59:59)', timeZone: 'America/New_York' });
      expect(scheduleExpressionOf({ type: 'recurring', cron: '0 9 ? * MON *', timeZone: 'America/New_York', start: '2027-07-01T00:00' })).toEqual({
        expression: 'cron(0 9 ? * MON *)',
        timeZone: 'America/New_York',
        startDate: '2027-07-01T04:00:00Z',
      });
    });
  });

  it('registers each campaign in the journeys table (campaignItem: definition, state machine, version, schedule name)', () => {
    const registrations = resourcesOfType(nested, 'Custom::WaymarkCampaignRegistration');
    expect(registrations).toHaveLength(FIXTURE_CAMPAIGNS.length);
    const [machineId] = machineOf('newsletter');
    /** The custom resource's Create call, with each CloudFormation token written as `@<its JSON>`. */
    const createOf = (r: Resource) => {
      const [, parts] = (r.Properties.Create as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
      return JSON.parse(parts.map((p) => (typeof p === 'string' ? p : `@${flat(p).replace(/"/g, "'")}`)).join('')) as { parameters: { Item: Record<string, { S: string }> } };
    };
    const items = registrations.map(([, r]) => createOf(r as Resource).parameters.Item);
    const item = items.find((i) => i.sk.S === 'CAMPAIGN#newsletter')!;
    expect(item.pk.S).toBe('CAMPAIGNS');
    expect(JSON.parse(item.definition.S)).toEqual(FIXTURE_CAMPAIGNS[2].campaign);
    expect(item.stateMachineArn.S).toBe(`@{'Ref':'${machineId}'}`);
    expect(item.version.S).toMatch(/^[0-9a-f]{16}$/);
    expect(item.scheduleName.S).toBe(`@{'Ref':'${scheduleIdOf('newsletter')}'}`);
    expect(items.find((i) => i.sk.S === 'CAMPAIGN#spring-sale')!.scheduleName).toBeUndefined();
  });

  describe('versions (a `live` alias per campaign, as journeys)', () => {
    /** The value written right after `marker` in the Fn::Join of a registration's Create call. */
    const valueAfter = (registration: Resource, marker: string) => {
      const [, parts] = (registration.Properties.Create as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
      const at = parts.findIndex((p) => typeof p === 'string' && p.endsWith(marker));
      expect(at).toBeGreaterThanOrEqual(0);
      return parts[at + 1];
    };

    it.each(FIXTURE_CAMPAIGNS.map((c) => [c.campaign.id]))('publishes a version of %s from its revision and points its live alias at it', (campaignId) => {
      const [machineId] = machineOf(campaignId);
      const [versionId, version] = campaignResource(campaignId, 'Version', 'AWS::StepFunctions::StateMachineVersion');
      expect(version.Properties).toEqual({
        StateMachineArn: { Ref: machineId },
        StateMachineRevisionId: { 'Fn::GetAtt': [machineId, 'StateMachineRevisionId'] },
        Description: expect.stringMatching(new RegExp(`^Waymark campaign ${campaignId}, definition [0-9a-f]{16}$`)),
      });
      const [, alias] = campaignResource(campaignId, 'LiveAlias', 'AWS::StepFunctions::StateMachineAlias');
      expect(alias.Properties).toMatchObject({ Name: 'live', RoutingConfiguration: [{ StateMachineVersionArn: { 'Fn::GetAtt': [versionId, 'Arn'] }, Weight: 100 }] });
    });

    it('registers the alias (where the API starts runs) and the version it points at', () => {
      for (const { campaign } of FIXTURE_CAMPAIGNS) {
        const [versionId] = campaignResource(campaign.id, 'Version', 'AWS::StepFunctions::StateMachineVersion');
        const [, registration] = campaignResource(campaign.id, 'Registration', 'Custom::WaymarkCampaignRegistration');
        expect(valueAfter(registration, '"aliasArn":{"S":"')).toEqual({ 'Fn::GetAtt': [aliasIdOf(campaign.id), 'Arn'] });
        expect(valueAfter(registration, '"liveVersionArn":{"S":"')).toEqual({ 'Fn::GetAtt': [versionId, 'Arn'] });
        expect(valueAfter(registration, '"liveVersion":{"S":"')).toEqual({ 'Fn::Select': [7, { 'Fn::Split': [':', { 'Fn::GetAtt': [versionId, 'Arn'] }] }] });
      }
    });

    it('publishes a new version only for the campaign whose definition changed', () => {
      const changed = FIXTURE_CAMPAIGNS.map((c) => (c.campaign.id === 'newsletter' ? { ...c, definition: { ...c.definition, Comment: 'changed' } } : c));
      const after = Template.fromStack(waymarkStacks(undefined, { campaigns: changed }).application.campaigns.campaignsStack!).toJSON() as Json;
      for (const { campaign } of FIXTURE_CAMPAIGNS) {
        const [versionId, before] = campaignResource(campaign.id, 'Version', 'AWS::StepFunctions::StateMachineVersion');
        // Same logical id; the description (which requires replacement) changes only with the definition.
        expect(after.Resources[versionId].Properties.Description === before.Properties.Description).toBe(campaign.id !== 'newsletter');
      }
    });

    it('keeps the logical ids of the nested stack and of each campaign state machine, version and alias', () => {
      // Pinned on purpose: a new id for the nested stack replaces every campaign; for a state machine it stops its
      // runs; for a version or alias it republishes. Renaming one must be a deliberate migration.
      const nestedStacks = resourcesOfType(app, 'AWS::CloudFormation::Stack').map(([id]) => id);
      expect(nestedStacks.filter((id) => id.startsWith('CampaignsNestedStack'))).toEqual(['CampaignsNestedStackCampaignsNestedStackResourceCD2F1472']);
      const types = ['AWS::StepFunctions::StateMachine', 'AWS::StepFunctions::StateMachineVersion', 'AWS::StepFunctions::StateMachineAlias'];
      const pinned = types.flatMap((t) => resourcesOfType(nested, t).map(([id]) => id)).sort();
      expect(pinned).toEqual([
        'CampaignlaunchdayLiveAliasFA2773AA',
        'CampaignlaunchdayStateMachine96C5C7F2',
        'CampaignlaunchdayVersion1959E7A0',
        'CampaignnewsletterLiveAlias0FA41452',
        'CampaignnewsletterStateMachine53BDEC86',
        'CampaignnewsletterVersionEA3EDE89',
        'CampaignspringsaleLiveAliasD1AE4B1E',
        'CampaignspringsaleStateMachine4A696BD4',
        'CampaignspringsaleVersion5BDADA76',
      ]);
    });
  });

  it('has no fixed name that a removed and re-added campaign, or a deploy after a destroy, would collide with', () => {
    expect(resourcesOfType(nested, 'AWS::Scheduler::Schedule').every(([, s]) => s.Properties?.Name === undefined)).toBe(true);
    expect(resourcesOfType(nested, 'AWS::SQS::Queue').every(([, q]) => q.Properties?.QueueName === undefined)).toBe(true);
    expect(resourcesOfType(nested, 'AWS::IAM::Role').every(([, r]) => r.Properties?.RoleName === undefined)).toBe(true);
    // State machine names are the stage's and the file's (grants name them by pattern) and are never retained; their log
    // groups carry the stack id and are deleted with them.
    const retained = Object.values(nested.Resources).filter((r) => r.DeletionPolicy === 'Retain');
    expect(retained.map((r) => r.Type)).toEqual(['AWS::Logs::LogGroup']);
    expect(retained[0].Properties.LogGroupName).toBeUndefined();
    for (const [, group] of resourcesOfType(nested, 'AWS::Logs::LogGroup').filter(([, g]) => g.Properties?.LogGroupName)) {
      expect(flat(group.Properties?.LogGroupName)).toContain('AWS::StackId');
    }
  });

  // Per campaign: state machine, version, live alias, role (its policy inline), registration; the execution log group
  // is the stack's (lib/README.md, resource budget).
  it('costs the app stack 3 resources (2 nested stacks, the dead-letter alarm), each campaign 5 in its own stack, +1 when scheduled', () => {
    const without = Object.keys((Template.fromStack(waymarkStacks(undefined, { campaigns: [] }).application).toJSON() as Json).Resources).length;
    // Campaigns and CampaignsMonitoring (its alarms and dashboard: test/infra/campaign-operations.test.ts).
    expect(Object.keys(app.Resources).length - without).toBe(3);
    const count = (campaigns: typeof FIXTURE_CAMPAIGNS) =>
      Object.keys((Template.fromStack(waymarkStacks(undefined, { campaigns }).application.campaigns.campaignsStack!).toJSON() as Json).Resources).length;
    const [onDemand, once] = FIXTURE_CAMPAIGNS;
    const one = count([onDemand]);
    expect(count([onDemand, { ...once, campaign: { ...once.campaign, schedule: { type: 'on-demand' } } }]) - one).toBe(5);
    expect(count([onDemand, once]) - one).toBe(6);
    expect(Object.keys(nested.Resources).length).toBeLessThan(500);
  });

  it(`refuses more than ${MAX_CAMPAIGNS} campaigns in one stack (CloudFormation's 500 resources), naming the limit`, () => {
    const [base] = FIXTURE_CAMPAIGNS;
    const many = Array.from({ length: MAX_CAMPAIGNS + 1 }, (_, i) => ({ ...base, campaign: { ...base.campaign, id: `c${i}` } }));
    expect(() => waymarkStacks(undefined, { campaigns: many })).toThrow(`${MAX_CAMPAIGNS + 1} campaign files: one Campaigns stack holds at most ${MAX_CAMPAIGNS}`);
  });

  it('leaves cdk-nag without unacknowledged findings, and the app synthesizes with the plugin', () => {
    const withNag = waymarkStacks(undefined, { campaigns: FIXTURE_CAMPAIGNS });
    const pack = new AwsSolutionsChecks(withNag.app, { verbose: true });
    Validations.of(withNag.app).addPlugins(pack);
    const violations = (scope: Parameters<typeof pack.validateScope>[0]) =>
      pack.validateScope(scope).violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
    expect(violations(withNag.application.campaigns.campaignsStack!)).toEqual([]);
    expect(violations(withNag.application)).toEqual([]);
    expect(() => withNag.app.synth()).not.toThrow();
  });
});

describe('the campaign-step environment (lib/features/wiring.ts)', () => {
  const campaignStep = ENTRY_POINTS.campaignStep as EntryPoint;
  const resources = (percent?: number) =>
    ({
      stage: STAGE,
      tables: { profiles: { tableName: 'p' }, journeys: { tableName: 'j' }, runtime: { tableName: 'r' } },
      secrets: { unsubscribe: { secretArn: 'u' }, privacyKey: { secretArn: 'k' } },
      publicUrl: 'https://x.example/',
      audienceBucket: { bucketName: 'bucket' },
      senderEmail: 'a@b.example',
      emailConfigurationSet: 'set',
      pushApplicationId: 'app',
      ...(percent === undefined ? {} : { campaignControlGroupPercent: percent }),
    }) as unknown as EntryPointResources;

  it('gives campaign-step the stage control-group percent when the stage sets one, and no other function', () => {
    expect(environmentOf(campaignStep, resources(5)).WAYMARK_CAMPAIGN_CONTROL_GROUP_PERCENT).toBe('5');
    expect(environmentOf(campaignStep, resources()).WAYMARK_CAMPAIGN_CONTROL_GROUP_PERCENT).toBeUndefined();
    expect(environmentOf(ENTRY_POINTS.startCampaignRun as EntryPoint, resources(5)).WAYMARK_CAMPAIGN_CONTROL_GROUP_PERCENT).toBeUndefined();
  });
});

describe('uses: audienceBucket and campaignRuns (lib/features/wiring.ts)', () => {
  /** A function bound to a declaration of the campaign API's kind (its routes are declared by the api engineer). */
  const bound = (uses: EntryPoint['uses']) => {
    const stack = new Stack(testApp(), 'Bound');
    const fn = new WaymarkFunction(stack, 'Fn', { handler: 'campaign-step', description: 'test', role: new FunctionRole(stack, 'FnRole', 'test') });
    const audienceBucket = s3.Bucket.fromBucketAttributes(stack, 'Bucket', { bucketArn: Fn.importValue('D:Arn'), bucketName: Fn.importValue('D:Name') });
    const resources = { stage: STAGE, audienceBucket, campaignStateMachinePrefix: `arn:aws:states:::stateMachine:waymark-${STAGE}_c-` } as unknown as EntryPointResources;
    bindEntryPoint(fn, { feature: 'campaigns', handler: 'campaign-step', trigger: { kind: 'api', route: 'POST /campaigns/{id}/runs' }, summary: 'runs', uses }, resources);
    const json = Template.fromStack(stack).toJSON() as Json;
    const [, fnResource] = resourcesOfType(json, 'AWS::Lambda::Function')[0];
    // Grants are inline in the (shared) role; the log statement is in its LogsPolicy.
    const statements = [
      ...resourcesOfType(json, 'AWS::IAM::Role').flatMap(([, r]) => ((r.Properties?.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[]).flatMap((p) => p.PolicyDocument.Statement)),
      ...resourcesOfType(json, 'AWS::IAM::Policy').flatMap(([, p]) => p.Properties?.PolicyDocument.Statement as Statement[]),
    ];
    return { env: fnResource.Properties!.Environment.Variables as Record<string, unknown>, statements };
  };

  it('campaignRuns: the ARN prefix in the environment, start on the stage campaigns, describe/stop on their executions', () => {
    const { env, statements } = bound({ campaignRuns: { actions: ['start', 'describe', 'stop'] } });
    expect(env.WAYMARK_CAMPAIGN_STATE_MACHINE_PREFIX).toBe(`arn:aws:states:::stateMachine:waymark-${STAGE}_c-`);
    const on = (action: string) => statements.filter((s) => [s.Action].flat().includes(action)).map((s) => JSON.stringify(s.Resource));
    expect(on('states:StartExecution')).toEqual([expect.stringContaining(`:stateMachine:waymark-${STAGE}_c-*"`)]);
    expect(on('states:StopExecution')).toEqual([expect.stringContaining(`:execution:waymark-${STAGE}_c-*:*"`)]);
    expect(on('states:DescribeExecution')).toEqual(on('states:StopExecution'));
    expect(env.WAYMARK_AUDIENCE_BUCKET_NAME).toBeUndefined();
  });

  it('audienceBucket read: the bucket name, GetObject and a prefix-limited ListBucket, no write', () => {
    const { env, statements } = bound({ audienceBucket: 'read', campaignRuns: { actions: ['describe'] } });
    expect(env.WAYMARK_AUDIENCE_BUCKET_NAME).toEqual({ 'Fn::ImportValue': 'D:Name' });
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['s3:GetObject', 's3:ListBucket', 'states:DescribeExecution']));
    expect(actions).not.toContain('s3:PutObject');
    expect(actions).not.toContain('states:StartExecution');
    expect(statements.find((s) => [s.Action].flat().includes('s3:ListBucket'))!.Condition).toEqual({ StringLike: { 's3:prefix': ['runs/*', 'campaign-results/*'] } });
  });
});

describe('campaign files (lib/campaigns.ts)', () => {
  const dirWith = (files: Record<string, unknown>) => {
    const dir = mkdtempSync(join(tmpdir(), 'campaigns-'));
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
    return dir;
  };
  const valid = FIXTURE_CAMPAIGNS[2].campaign;

  it('reads none from a missing folder', () => {
    expect(loadCampaigns(join(tmpdir(), 'no-such-campaigns-folder'))).toEqual([]);
  });

  it('compiles each valid file with the given compiler', () => {
    const loaded = loadCampaigns(dirWith({ 'newsletter.json': valid, 'README.md': 'not a campaign' }), (c) => handWrittenDefinition(c.id));
    expect(loaded.map((c) => c.campaign.id)).toEqual(['newsletter']);
    expect(loaded[0].definition).toEqual(handWrittenDefinition('newsletter'));
  });

  it('fails synth listing every problem with its file: bad JSON, an invalid field, a duplicate id, a compile error', () => {
    const dir = dirWith({ 'a.json': '{', 'b.json': { ...valid, id: 'Bad Id' }, 'c.json': valid, 'd.json': valid });
    const error = (() => {
      try {
        loadCampaigns(dir, () => {
          throw new Error('no compiler');
        });
      } catch (e) {
        return e as CampaignCatalogError;
      }
      throw new Error('expected a CampaignCatalogError');
    })();
    expect(error).toBeInstanceOf(CampaignCatalogError);
    const problems = error.problems.join('\n');
    expect(problems).toMatch(/a\.json: not valid JSON/);
    expect(problems).toMatch(/b\.json: id: campaign ids are kebab-case/);
    expect(problems).toMatch(/d\.json: id: campaign id "newsletter" is also used by .*c\.json/);
    expect(problems).toMatch(/c\.json: does not compile: no compiler/);
  });

  it('fails synth naming a campaign whose references the stage does not deploy (segment, journey, placement)', () => {
    const catalog = campaignCatalogOf({ journeys: [], segments: [], placements: [] });
    expect(() => loadCampaigns(dirWith({ 'newsletter.json': valid }), (c) => handWrittenDefinition(c.id), catalog)).toThrow(/newsletter\.json: .*segment/);
  });

  it('validates and compiles the shipped campaign files against the repository catalog', () => {
    const loaded = loadCampaigns(CAMPAIGNS_DIR, compileForDeploy, campaignCatalogOf({ journeys: loadJourneys(), segments: loadSegments(), placements: loadDecisionFiles().placements }));
    expect(loaded.length).toBeGreaterThan(0);
  });
});
