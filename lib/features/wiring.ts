import { ArnFormat, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { EnvKey, ProfileIndex, TableEnvKey } from '../../lambdas/core/config/env-keys';
import { smsVoiceResources, type JourneyStateMachine } from '../constructs/journey-state-machine';
import type { WaymarkFunction } from '../constructs/waymark-function';
import type { CampaignRunAction, EntryPoint, JourneyRunAction, SecretName, TableName } from '../entry-points';
import { campaignStateMachineName } from '../constructs/campaign-state-machine';
import { metricsNamespaceOf } from '../constructs/operations-dashboard';
import { acknowledgeDataKeyWildcards, acknowledgeWildcards, resourceFinding } from '../nag';

/** What a declaration's `uses` can name, as the stack built it. */
export interface EntryPointResources {
  readonly tables: Readonly<Record<TableName, dynamodb.ITable>>;
  readonly eventBus: events.IEventBus;
  readonly secrets: Readonly<Record<SecretName, secretsmanager.ISecret>>;
  readonly audienceScan: sfn.IStateMachine;
  /** The API's base URL (built from its id: `api.url` would make the deployment depend on the functions). */
  readonly publicUrl: string;
  readonly stage: string;
  /** The stage's default IANA time zone (`defaultTimezone`), for the functions that declare `defaultTimeZone`. */
  readonly defaultTimeZone: string;
  /** The journeys' state machines; with `sharded`, grants name them by the stage's pattern instead. */
  readonly journeys: readonly JourneyStateMachine[];
  readonly sharded: boolean;
  /** The campaign audience bucket (data stack). */
  readonly audienceBucket: s3.IBucket;
  /** `arn:…:stateMachine:waymark-<stage>_c-`: the ARN prefix of the stage's campaign state machines. */
  readonly campaignStateMachinePrefix: string;
  /** For `messages: 'send'`: the SES identity, the stage's configuration set name, the push application id. */
  readonly senderEmail: string;
  readonly emailConfigurationSet: string;
  readonly pushApplicationId: string;
  /** For `messages: 'send'` SMS: the stage's origination identity and SMS configuration set (status events). */
  readonly smsOriginationIdentity?: string;
  readonly smsConfigurationSet?: string;
  /** The stage's `campaignControlGroupPercent`, for the campaign-step function; none when the stage sets none. */
  readonly campaignControlGroupPercent?: number;
}

/** The environment variable of each secret. */
const SECRET_ENV: Record<SecretName, string> = { unsubscribe: EnvKey.unsubscribeSecretArn, privacyKey: EnvKey.privacyKeySecretArn };

/**
 * The environment a declaration implies, and nothing else: only the declared tables' names (a handler's ports for
 * other tables fail when used, naming the missing variable: lambdas/adapters/dynamodb-ports.ts), the bus, secrets,
 * audience scan and public URL only when declared. test/unit/architecture/declared-tables.test.ts runs each handler
 * with just this environment.
 */
export function environmentOf(entry: EntryPoint, r: EntryPointResources): Record<string, string> {
  const env: Record<string, string> = {};
  for (const table of Object.keys(TableEnvKey) as TableName[]) {
    if (entry.uses.tables?.[table]) env[TableEnvKey[table]] = r.tables[table].tableName;
  }
  if (entry.uses.bus) env[EnvKey.eventBusName] = r.eventBus.eventBusName;
  for (const secret of entry.uses.secrets ?? []) env[SECRET_ENV[secret]] = r.secrets[secret].secretArn;
  if (entry.uses.audienceScan) env[EnvKey.audienceScanStateMachineArn] = r.audienceScan.stateMachineArn;
  if (entry.uses.publicUrl) env[EnvKey.publicUrl] = r.publicUrl;
  // The stage's namespace for the handlers' Powertools metrics (lambdas/shared/powertools.ts), beside its Deliveries.
  env.POWERTOOLS_METRICS_NAMESPACE = metricsNamespaceOf(r.stage);
  if (entry.uses.defaultTimeZone) env[EnvKey.defaultTimeZone] = r.defaultTimeZone;
  if (entry.uses.audienceBucket) env[EnvKey.audienceBucketName] = r.audienceBucket.bucketName;
  if (entry.uses.campaignRuns) env[EnvKey.campaignStateMachinePrefix] = r.campaignStateMachinePrefix;
  if (entry.trigger.kind === 'campaign-step' && r.campaignControlGroupPercent !== undefined) {
    env[EnvKey.campaignControlGroupPercent] = String(r.campaignControlGroupPercent);
  }
  if (entry.uses.messages) {
    env[EnvKey.senderEmail] = r.senderEmail;
    env[EnvKey.emailConfigurationSet] = r.emailConfigurationSet;
    env[EnvKey.pushApplicationId] = r.pushApplicationId;
    if (r.smsOriginationIdentity !== undefined) env[EnvKey.smsOriginationIdentity] = r.smsOriginationIdentity;
    if (r.smsConfigurationSet !== undefined) env[EnvKey.smsConfigurationSet] = r.smsConfigurationSet;
  }
  return env;
}

// The runtime table has one index (the profile index); grants name it instead of CDK's `index/*`.
const RUNTIME_READ = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem', 'dynamodb:DescribeTable'];
const RUNTIME_WRITE = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

/**
 * Gives `fn` its declared environment and exactly the grants its declaration names. The grants go to its role once:
 * the functions sharing a role declared the same grants (lib/constructs/function-roles.ts).
 */
export function bindEntryPoint(fn: WaymarkFunction, entry: EntryPoint, r: EntryPointResources): void {
  for (const [key, value] of Object.entries(environmentOf(entry, r))) fn.function.addEnvironment(key, value);
  if (fn.functionRole.granted) return;
  fn.functionRole.granted = true;
  const { uses } = entry;
  for (const table of ['profiles', 'journeys', 'runtime'] as const) {
    const access = uses.tables?.[table];
    if (!access) continue;
    if (table === 'runtime') {
      const runtime = r.tables.runtime;
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: access === 'read' ? RUNTIME_READ : [...RUNTIME_READ, ...RUNTIME_WRITE],
          resources: [runtime.tableArn, `${runtime.tableArn}/index/${ProfileIndex.name}`],
        }),
      );
      if (access === 'read') runtime.encryptionKey?.grantDecrypt(fn.role);
      else runtime.encryptionKey?.grantEncryptDecrypt(fn.role);
    } else if (access === 'read') r.tables[table].grantReadData(fn);
    else r.tables[table].grantReadWriteData(fn);
  }
  if (Object.values(uses.tables ?? {}).includes('readWrite')) acknowledgeDataKeyWildcards(fn.role);
  if (uses.bus) r.eventBus.grantPutEventsTo(fn);
  for (const secret of uses.secrets ?? []) r.secrets[secret].grantRead(fn.role);
  if (uses.audienceScan) r.audienceScan.grantStartExecution(fn.role);
  if (uses.journeyRuns) grantJourneyRuns(fn, uses.journeyRuns.of, uses.journeyRuns.actions, r);
  if (uses.journeyVersions) grantJourneyVersions(fn, r);
  if (uses.campaignVersions) grantCampaignVersions(fn, r.stage);
  if (uses.audienceBucket) grantAudienceBucket(fn, uses.audienceBucket, r.audienceBucket);
  if (uses.campaignRuns) grantCampaignRuns(fn, uses.campaignRuns.actions, r.stage);
  if (uses.messages) grantMessages(fn, r);
}

/**
 * The sends a journey's state machine makes, for a function that sends itself: SES v2 SendEmail authorizes against
 * the identity (address or its domain) and the configuration set; SMS through SNS Publish to a PhoneNumber has no
 * resource ARN (as for the journeys: https://docs.aws.amazon.com/step-functions/latest/dg/sns-iam.html); push on the one app.
 */
function grantMessages(fn: WaymarkFunction, r: EntryPointResources): void {
  const stack = Stack.of(fn);
  const add = (actions: string[], resources: string[]) => fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources }));
  const ses = (resource: string, resourceName: string) => stack.formatArn({ service: 'ses', resource, resourceName });
  add(['ses:SendEmail'], [ses('identity', r.senderEmail), ses('identity', r.senderEmail.split('@')[1]), ses('configuration-set', r.emailConfigurationSet)]);
  // SMS goes out through End User Messaging SMS SendTextMessage, as the journeys' SMS state (journey-state-machine.ts).
  add(['sms-voice:SendTextMessage'], [smsVoiceResources(fn)]);
  const app = (resourceName: string) => stack.formatArn({ service: 'mobiletargeting', resource: 'apps', resourceName });
  add(['mobiletargeting:SendMessages'], [app(r.pushApplicationId), app(`${r.pushApplicationId}/messages`)]);
  acknowledgeWildcards(fn.role, ['Resource::*'], 'X-Ray has no resource-level permissions.');
  acknowledgeWildcards(
    fn.role,
    [resourceFinding(fn.role, smsVoiceResources(fn))],
    'sms-voice:SendTextMessage authorizes against the configuration set, the origination identity and its opt-out list (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsendusermessagingsmsandvoicev2.html): this account and region, as the journeys\' roles.',
  );
}

/** The audience bucket's prefixes a function reads (run sets, Distributed Map results) and writes (run sets). */
const AUDIENCE_READ_PREFIXES = ['runs/', 'campaign-results/'];
const AUDIENCE_WRITE_PREFIXES = ['runs/'];

/**
 * Objects under the bucket's prefixes, listing limited to them by `s3:prefix`, and the data key the bucket encrypts
 * with: Decrypt to read, GenerateDataKey to write (multipart uploads need both:
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html#mpuAndPermissions).
 */
function grantAudienceBucket(fn: WaymarkFunction, access: 'read' | 'readWrite', bucket: s3.IBucket): void {
  const objects = (prefixes: string[]) => prefixes.map((p) => bucket.arnForObjects(`${p}*`));
  const add = (statement: iam.PolicyStatement) => fn.role.addToPrincipalPolicy(statement);
  add(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: objects(AUDIENCE_READ_PREFIXES) }));
  add(
    new iam.PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': AUDIENCE_READ_PREFIXES.map((p) => `${p}*`) } },
    }),
  );
  if (access === 'readWrite') add(new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:AbortMultipartUpload'], resources: objects(AUDIENCE_WRITE_PREFIXES) }));
  if (bucket.encryptionKey) {
    const keyActions = access === 'read' ? ['kms:Decrypt'] : ['kms:Decrypt', 'kms:GenerateDataKey'];
    add(new iam.PolicyStatement({ actions: keyActions, resources: [bucket.encryptionKey.keyArn] }));
  }
  const stack = Stack.of(fn);
  acknowledgeWildcards(
    fn.role,
    objects(access === 'read' ? AUDIENCE_READ_PREFIXES : [...new Set([...AUDIENCE_READ_PREFIXES, ...AUDIENCE_WRITE_PREFIXES])]).map((arn) => resourceFinding(stack, arn)),
    'Campaign runs name their objects at run time (runs/<campaignId>/<runId>/…, campaign-results/<campaignId>/…): the grant is limited to those prefixes of the one audience bucket.',
  );
}

/** `arn:…:stateMachine:waymark-<stage>_c-<suffix>` (the stage's campaign state machines are named so). */
function campaignMachineArn(scope: Construct, stage: string, suffix: string): string {
  return Stack.of(scope).formatArn({ service: 'states', resource: 'stateMachine', resourceName: campaignStateMachineName(stage, suffix), arnFormat: ArnFormat.COLON_RESOURCE_NAME });
}

/**
 * Start/describe/stop on campaign runs, by the stage's campaign name pattern: the campaign state machines live in the
 * `Campaigns` nested stack, whose ARNs would cost an output each (and their names are the stage's and the file's).
 */
function grantCampaignRuns(fn: WaymarkFunction, actions: readonly CampaignRunAction[], stage: string): void {
  const stack = Stack.of(fn);
  const machines = campaignMachineArn(fn, stage, '*');
  const executions = stack.formatArn({ service: 'states', resource: 'execution', resourceName: `${campaignStateMachineName(stage, '*')}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  if (actions.includes('start')) fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [machines] }));
  const onExecutions = [actions.includes('describe') && 'states:DescribeExecution', actions.includes('stop') && 'states:StopExecution'].filter((a): a is string => !!a);
  if (onExecutions.length > 0) fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: onExecutions, resources: [executions] }));
  acknowledgeWildcards(
    fn.role,
    [...(actions.includes('start') ? [machines] : []), ...(onExecutions.length > 0 ? [executions] : [])].map((arn) => resourceFinding(stack, arn)),
    `Campaign runs: the stage's campaign state machines by name pattern (stateMachine:${campaignStateMachineName(stage, '*')}), which live in the Campaigns nested stack, and their executions, named by run id at run time.`,
  );
}

/**
 * DescribeStateMachine on the stage's campaign state machines and their versions (`stateMachine:<name>:<n>`), by the
 * stage's campaign pattern: `GET /campaigns/{id}` reads when the live version was published.
 */
function grantCampaignVersions(fn: WaymarkFunction, stage: string): void {
  const stack = Stack.of(fn);
  const pattern = campaignMachineArn(fn, stage, '*');
  fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['states:DescribeStateMachine'], resources: [pattern] }));
  acknowledgeWildcards(
    fn.role,
    [resourceFinding(stack, pattern)],
    `DescribeStateMachine reads the live version of this stage's campaigns (stateMachine:${campaignStateMachineName(stage, '<id>')}:<version>): version numbers are published at deploy time, so the grant names the stage's campaign state machines by pattern.`,
  );
}

/**
 * DescribeStateMachine on the stage's journey state machines and their versions (`stateMachine:<name>:<n>`), by the
 * stage's pattern: a version's ARN is only known after its deploy, and one ARN per journey would not scale.
 */
function grantJourneyVersions(fn: WaymarkFunction, r: EntryPointResources): void {
  const stack = Stack.of(fn);
  const pattern = stack.formatArn({ service: 'states', resource: 'stateMachine', resourceName: `waymark-${r.stage}-*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['states:DescribeStateMachine'], resources: [pattern] }));
  acknowledgeWildcards(
    fn.role,
    [resourceFinding(stack, pattern)],
    `DescribeStateMachine reads the live version of this stage's journeys (stateMachine:waymark-${r.stage}-<journeyId>:<version>): version numbers are published at deploy time, so the grant names the stage's state machines by pattern.`,
  );
}

/**
 * Start/describe/stop on journey runs. `all`: every journey of the stage. `segment`: start the journeys entered on a
 * segment, stop runs of those with a segment-exited exit criterion, describe runs of either (re-entry checks).
 */
function grantJourneyRuns(fn: WaymarkFunction, of: 'all' | 'segment', actions: readonly JourneyRunAction[], r: EntryPointResources): void {
  const stack = Stack.of(fn);
  // Sharded, the grants name the stage's state machines by pattern (waymark-<stage>-*): a list of 200 ARNs would pass
  // IAM's 10,240 characters per role, and ARNs read from nested stacks would cost an output each.
  const stageMachineArn = stack.formatArn({ service: 'states', resource: 'stateMachine', resourceName: `waymark-${r.stage}-*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  const stageExecutionArn = stack.formatArn({ service: 'states', resource: 'execution', resourceName: `waymark-${r.stage}-*:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  const machineArns = (list: readonly JourneyStateMachine[]) => (r.sharded ? [stageMachineArn] : list.map((m) => m.stateMachine.stateMachineArn));
  const executionArns = (list: readonly JourneyStateMachine[]) => (r.sharded ? [stageExecutionArn] : list.map((m) => m.executionArnPattern));
  const addStatement = (statementActions: string[], resources: string[]) =>
    fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: statementActions, resources }));
  const has = (action: JourneyRunAction) => actions.includes(action);
  const startable = of === 'all' ? r.journeys : r.journeys.filter((m) => m.journey.journey.entry.kind === 'segment');
  if (of === 'all') {
    if (r.journeys.length === 0) return;
    const executions = executionArns(r.journeys);
    if (has('start')) addStatement(['states:StartExecution'], machineArns(r.journeys));
    const onExecutions = [
      has('describe') && 'states:DescribeExecution',
      has('stop') && 'states:StopExecution',
      has('history') && 'states:GetExecutionHistory',
    ].filter((a): a is string => !!a);
    if (onExecutions.length > 0) {
      addStatement(onExecutions, executions);
      acknowledgeWildcards(
        fn.role,
        executions.map((arn) => resourceFinding(stack, arn)),
        "Executions are named at run time (deterministically per profile), so DescribeExecution/StopExecution take the execution pattern of each of this stage's journey state machines (execution:waymark-<stage>-<journeyId>:*), nothing wider.",
      );
    }
  } else {
    const stoppable = r.journeys.filter((m) => m.journey.journey.exitCriteria?.some((c) => c.kind === 'segment-exited'));
    const describable = executionArns([...new Set([...startable, ...stoppable])]);
    if (has('start') && startable.length > 0) addStatement(['states:StartExecution'], machineArns(startable));
    if (has('describe') && describable.length > 0) {
      addStatement(['states:DescribeExecution'], describable);
      acknowledgeWildcards(
        fn.role,
        describable.map((arn) => resourceFinding(stack, arn)),
        'Executions are named at run time (deterministically per profile), so DescribeExecution/StopExecution take the execution pattern (execution:waymark-<stage>-<journeyId>:*) of only those journeys of this stage that enter on a segment or exit when a profile leaves one.',
      );
    }
    if (has('stop') && stoppable.length > 0) addStatement(['states:StopExecution'], executionArns(stoppable));
  }
  if (r.sharded && has('start') && startable.length > 0) {
    acknowledgeWildcards(
      fn.role,
      [resourceFinding(stack, stageMachineArn)],
      `With the journeys in nested stacks (registryShards), StartExecution names this stage's state machines by pattern (stateMachine:waymark-${r.stage}-*): one ARN per journey would pass IAM's 10,240 characters per role with a few hundred journeys.`,
    );
  }
}

/**
 * Resuming a wait-for-event: SendTaskSuccess/SendTaskFailure have no resource type in the Service Authorization
 * Reference (the task token is the authorization), so they need Resource "*". A policy of its own, for a precise
 * acknowledgement, attached to every function declared with `taskTokens`.
 */
export function taskResponsePolicy(scope: Construct, roles: readonly iam.IRole[]): iam.Policy | undefined {
  if (roles.length === 0) return undefined;
  const policy = new iam.Policy(scope, 'RouteEventTaskResponsePolicy', {
    statements: [new iam.PolicyStatement({ actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'], resources: ['*'] })],
    // Once per role: functions declared with the same grants share one.
    roles: [...new Set(roles)],
  });
  acknowledgeWildcards(
    policy,
    ['Resource::*'],
    'states:SendTaskSuccess and states:SendTaskFailure have no resource type in the Service Authorization Reference, so Resource must be "*"; the unguessable task token, held only by registered waits, is what scopes the call.',
  );
  return policy;
}
