import { Template } from 'aws-cdk-lib/assertions';
import { matchesPattern, type EventPattern } from '../../lambdas/core/events/pattern';
import { resourcesOfType, STAGE, waymarkStacks } from './waymark-app';

type Resource = { Type: string; Properties?: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string };
type Json = { Resources: Record<string, Resource> };

/** The properties that give a resource its physical name, by type (only the types these stacks create). */
const NAME_PROPERTIES: Record<string, string> = {
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::Events::EventBus': 'Name',
  'AWS::Events::Archive': 'ArchiveName',
  'AWS::StepFunctions::StateMachine': 'StateMachineName',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::SecretsManager::Secret': 'Name',
  'AWS::SES::ConfigurationSet': 'Name',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::KMS::Alias': 'AliasName',
  'AWS::S3::Bucket': 'BucketName',
  'AWS::Scheduler::Schedule': 'Name',
};

/** A physical name CloudFormation would meet again after the stack is deleted and deployed anew (no stack id in it). */
const isFixedName = (name: unknown) => name !== undefined && !JSON.stringify(name).includes('AWS::StackId');

describe('safe redeploys', () => {
  let data: Json;
  let app: Json;
  beforeAll(() => {
    const stacks = waymarkStacks();
    data = Template.fromStack(stacks.data).toJSON() as Json;
    app = Template.fromStack(stacks.application).toJSON() as Json;
  });

  it('retains no resource with a fixed physical name in either stack (a destroy then a deploy, or a journey removed and added again, never collides)', () => {
    const collisions = [data, app].flatMap((json) =>
      Object.entries(json.Resources)
        .filter(([, r]) => r.DeletionPolicy === 'Retain' || r.UpdateReplacePolicy === 'Retain')
        .filter(([, r]) => isFixedName(r.Properties?.[NAME_PROPERTIES[r.Type] ?? '']))
        .map(([id, r]) => `${id} (${r.Type}): ${JSON.stringify(r.Properties?.[NAME_PROPERTIES[r.Type]])}`),
    );
    expect(collisions).toEqual([]);
  });

  it('names every state machine log group under /aws/vendedlogs/states/ with the stack id, and deletes it with its state machine', () => {
    const machines = resourcesOfType(app, 'AWS::StepFunctions::StateMachine');
    expect(machines.length).toBeGreaterThan(1);
    const groups = new Map(resourcesOfType(app, 'AWS::Logs::LogGroup'));
    for (const [machineId, machine] of machines) {
      const groupId = machine.Properties?.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0] as string;
      const group = groups.get(groupId) as Resource;
      const name = JSON.stringify(group.Properties?.LogGroupName);
      // The prefix keeps the CloudWatch Logs resource policy small (Step Functions best practice, bp-cwl).
      expect({ machineId, prefix: name.includes(`/aws/vendedlogs/states/${machine.Properties?.StateMachineName}-`), stackId: name.includes('AWS::StackId') }).toEqual({
        machineId,
        prefix: true,
        stackId: true,
      });
      expect({ machineId, deletion: group.DeletionPolicy, replace: group.UpdateReplacePolicy }).toEqual({ machineId, deletion: 'Delete', replace: 'Delete' });
    }
  });

  it('keeps the logical ids of what holds data or keys (a changed id would replace the resource)', () => {
    // Pinned on purpose: renaming one of these constructs must be a deliberate migration, not a refactoring.
    const retained = Object.entries(data.Resources)
      .filter(([, r]) => r.DeletionPolicy === 'Retain')
      .map(([id, r]) => `${id} ${r.Type}`)
      .sort();
    expect(retained).toEqual([
      'AudienceBucket8C1A3CAA AWS::S3::Bucket',
      'DataKey17AFBB84 AWS::KMS::Key',
      'EventBusEventArchive82E66C32 AWS::Events::Archive',
      'JourneysTable0C066216 AWS::DynamoDB::Table',
      'PrivacyKeySecret9E67889D AWS::SecretsManager::Secret',
      'ProfilesTable3B48B4C6 AWS::DynamoDB::Table',
      'RuntimeTable3869E3BF AWS::DynamoDB::Table',
      'UnsubscribeSecret07D7FF90 AWS::SecretsManager::Secret',
    ]);
  });

  it("keeps the logical ids of the API and of every journey's state machine (a changed id would replace them)", () => {
    // Pinned on purpose: a new logical id replaces the resource — a new API URL in every client and unsubscribe
    // link, or a state machine whose running executions are stopped. Renaming one must be a deliberate migration.
    const pinned = [...resourcesOfType(app, 'AWS::ApiGateway::RestApi'), ...resourcesOfType(app, 'AWS::StepFunctions::StateMachine')]
      .map(([id, r]) => `${id} ${r.Type}`)
      .sort();
    expect(pinned).toEqual(PINNED_APP_IDS);
  });

  it('synthesizes the event archive without an empty KmsKeyIdentifier (aws-cdk#37847), and retains it', () => {
    const archives = resourcesOfType(data, 'AWS::Events::Archive');
    expect(archives).toHaveLength(1);
    const [, archive] = archives[0];
    expect(archive.Properties).not.toHaveProperty('KmsKeyIdentifier');
    expect({ deletion: archive.DeletionPolicy, replace: archive.UpdateReplacePolicy }).toEqual({ deletion: 'Retain', replace: 'Retain' });
  });

  it('keeps the unsubscribe link key and the privacy key in the data stack, retained, and none in the app stack', () => {
    expect(resourcesOfType(app, 'AWS::SecretsManager::Secret')).toEqual([]);
    const secrets = resourcesOfType(data, 'AWS::SecretsManager::Secret');
    expect(secrets.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(['PrivacyKeySecret', 'UnsubscribeSecret']);
    for (const [id, secret] of secrets) {
      expect({ id, deletion: secret.DeletionPolicy, replace: secret.UpdateReplacePolicy }).toEqual({ id, deletion: 'Retain', replace: 'Retain' });
    }
  });

  it("sends record-delivery-event only the SES events of this stage's configuration set", () => {
    const [configurationSetId] = resourcesOfType(app, 'AWS::SES::ConfigurationSet')[0];
    const rules = resourcesOfType(app, 'AWS::Events::Rule').filter(([, r]) => JSON.stringify(r.Properties?.EventPattern ?? {}).includes('aws.ses'));
    expect(rules).toHaveLength(1);
    expect(rules[0][1].Properties?.EventPattern).toEqual({
      source: ['aws.ses'],
      'detail-type': ['Email Sent', 'Email Delivered', 'Email Bounced', 'Email Complaint Received', 'Email Rejected', 'Email Opened', 'Email Clicked', 'Email Rendering Failed'],
      detail: { mail: { tags: { 'ses:configuration-set': [{ Ref: configurationSetId }] } } },
    });
  });

  it("matches a bounce of this stage's configuration set and not one of another set (EventBridge matches array values)", () => {
    const [configurationSetId] = resourcesOfType(app, 'AWS::SES::ConfigurationSet')[0];
    const [, rule] = resourcesOfType(app, 'AWS::Events::Rule').find(([, r]) => JSON.stringify(r.Properties?.EventPattern ?? {}).includes('aws.ses'))!;
    // The configuration set's name as CloudFormation would resolve the Ref.
    const pattern = JSON.parse(JSON.stringify(rule.Properties?.EventPattern).split(JSON.stringify({ Ref: configurationSetId })).join('"set-a"')) as EventPattern;
    const bounce = (set: string) => ({
      source: 'aws.ses',
      'detail-type': 'Email Bounced',
      detail: { eventType: 'Bounce', mail: { destination: ['ann@shop.com'], tags: { 'ses:configuration-set': [set], 'ses:from-domain': ['shop.com'] } } },
    });
    expect(matchesPattern(pattern, bounce('set-a'))).toBe(true);
    expect(matchesPattern(pattern, bounce('set-b'))).toBe(false);
  });

  it("matches an SMS status event of this stage's configuration set and not one of another, or one without context", () => {
    const [, rule] = resourcesOfType(app, 'AWS::Events::Rule').find(([, r]) => JSON.stringify(r.Properties?.EventPattern ?? {}).includes('aws.sms-voice'))!;
    const pattern = rule.Properties?.EventPattern as EventPattern;
    const status = (context?: Record<string, string>) => ({
      source: 'aws.sms-voice',
      'detail-type': 'Text Message Delivery Status Updated',
      detail: { messageId: 'm-1', messageStatus: 'DELIVERED', ...(context ? { context } : {}) },
    });
    expect(matchesPattern(pattern, status({ journey: 'welcome', configurationSet: `waymark-${STAGE}` }))).toBe(true);
    expect(matchesPattern(pattern, status({ journey: 'welcome', configurationSet: 'waymark-other' }))).toBe(false);
    expect(matchesPattern(pattern, status())).toBe(false);
  });

  it('grants no sns:Publish to journeys any more (SMS goes through End User Messaging SMS)', () => {
    for (const [id, policy] of resourcesOfType(app, 'AWS::IAM::Policy').filter(([pid]) => /^Journey(?!Registration).*RoleDefaultPolicy/.test(pid))) {
      const statements = (policy.Properties?.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]).filter((s) => [s.Action].flat().includes('sns:Publish'));
      expect({ id, statements }).toEqual({ id, statements: [] });
    }
  });
});

/** The API and the state machines of the shipped journeys and the audience scan, as synthesized. */
const PINNED_APP_IDS = [
  'ApiF70053CD AWS::ApiGateway::RestApi',
  'AudienceScanStateMachine9F74AE5A AWS::StepFunctions::StateMachine',
  'JourneycartabandonmentStateMachineC9E6885B AWS::StepFunctions::StateMachine',
  'JourneycrosssellStateMachine54928C6C AWS::StepFunctions::StateMachine',
  'JourneyeventreminderStateMachine1396DAA4 AWS::StepFunctions::StateMachine',
  'JourneyloyaltymemberdayStateMachineF792CC5B AWS::StepFunctions::StateMachine',
  'JourneyloyaltytierStateMachineF8E63C29 AWS::StepFunctions::StateMachine',
  'JourneymanualoutreachStateMachine746B6222 AWS::StepFunctions::StateMachine',
  'JourneynextbestofferStateMachine48029E86 AWS::StepFunctions::StateMachine',
  'JourneyquotefollowupStateMachine40CFCBEC AWS::StepFunctions::StateMachine',
  'JourneywelcomeStateMachineBECE5B51 AWS::StepFunctions::StateMachine',
];
