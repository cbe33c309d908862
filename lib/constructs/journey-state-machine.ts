import { ArnFormat, Aws, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as ses from 'aws-cdk-lib/aws-ses';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { acknowledgeDataKeyWildcards, acknowledgeWildcards, resourceFinding } from '../nag';
import { journeysTableItem } from './journeys-table-item';
import { JourneyItem } from '../../lambdas/core/config/env-keys';
import { journeyItem, LIVE_ALIAS, Placeholder, type CompiledJourney } from '../../lambdas/core/journey';

/** Step Functions limits a state machine name to 80 characters. */
export const MAX_STATE_MACHINE_NAME = 80;

/**
 * The execution log group of a state machine, `/aws/vendedlogs/states/<stateMachineName>-<stack uuid>`: the prefix keeps
 * the account's CloudWatch Logs resource policy small with hundreds of state machines
 * (https://docs.aws.amazon.com/step-functions/latest/dg/bp-cwl.html); the stack id's UUID makes the name new after a
 * `cdk destroy` (and distinct from groups earlier versions retained). Deleted with its state machine, so removing a
 * journey and adding it again never meets an existing group. Execution logs hold no execution data.
 */
export function stateMachineLogGroup(scope: Construct, stateMachineName: string, retention?: logs.RetentionDays): logs.LogGroup {
  const stackUuid = Fn.select(2, Fn.split('/', Aws.STACK_ID));
  return new logs.LogGroup(scope, 'LogGroup', {
    logGroupName: Fn.join('', [`/aws/vendedlogs/states/${stateMachineName}-`, stackUuid]),
    retention: retention ?? logs.RetentionDays.THREE_MONTHS,
    removalPolicy: RemovalPolicy.DESTROY,
  });
}

/**
 * Publishes the state machine's current revision as a version (ids `Version`, `LiveAlias` under `scope`) behind the
 * `live` alias, for journeys and campaigns. A version is published only when the revision changes:
 * StateMachineRevisionId requires replacement
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-stepfunctions-statemachineversion.html),
 * and the revision changes with the definition (its hash, in the description) or its substitutions. The superseded
 * version is deleted after the alias moved; its runs go on to their end
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_DeleteStateMachineVersion.html), and runs started
 * on the alias stay on the version they started on
 * (https://docs.aws.amazon.com/step-functions/latest/dg/execution-alias-version-associate.html).
 */
export function publishLiveVersion(
  scope: Construct,
  stateMachine: sfn.StateMachine,
  what: string,
  definitionHash: string,
): { version: sfn.CfnStateMachineVersion; alias: sfn.CfnStateMachineAlias } {
  const cfnStateMachine = stateMachine.node.defaultChild as sfn.CfnStateMachine;
  const version = new sfn.CfnStateMachineVersion(scope, 'Version', {
    stateMachineArn: stateMachine.stateMachineArn,
    stateMachineRevisionId: cfnStateMachine.attrStateMachineRevisionId,
    description: `${what}, definition ${definitionHash}`,
  });
  const alias = new sfn.CfnStateMachineAlias(scope, 'LiveAlias', {
    name: LIVE_ALIAS,
    description: `${what}: the version new runs start on`,
    routingConfiguration: [{ stateMachineVersionArn: version.attrArn, weight: 100 }],
  });
  return { version, alias };
}

/** The IAM5 acknowledgment of a journey execution role (its own, or one shared by the journeys of a stack). */
export function acknowledgeJourneyRoleWildcards(role: iam.Role): void {
  acknowledgeWildcards(
    role,
    [resourceFinding(role, smsVoiceResources(role))],
    'sms-voice:SendTextMessage authorizes against the configuration set, the origination identity (a phone number, pool or sender ID, named by number, id or ARN) and its opt-out list (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsendusermessagingsmsandvoicev2.html): scoped to this account and region.',
  );
  acknowledgeWildcards(
    role,
    ['Resource::*'],
    'Resource "*" is required by cloudwatch:PutMetricData (scoped to the namespace by condition), by X-Ray tracing (xray:PutTraceSegments, PutTelemetryRecords, GetSamplingRules, GetSamplingTargets) and by CloudWatch Logs vended log delivery (logs:CreateLogDelivery and related); none of these support resource-level permissions.',
  );
}

/** This account's End User Messaging SMS resources in this region, `arn:<partition>:sms-voice:<region>:<account>:*`. */
export function smsVoiceResources(scope: Construct): string {
  return Stack.of(scope).formatArn({ service: 'sms-voice', resource: '*', arnFormat: ArnFormat.NO_RESOURCE_NAME });
}

/** The Lambda functions compiled journeys call, by their placeholder. */
export interface JourneyStepFunctions {
  readonly prepareSend: lambda.IFunction;
  readonly registerWait: lambda.IFunction;
  readonly resolveWait: lambda.IFunction;
  readonly loadProfile: lambda.IFunction;
  /** The `decide` node's step (decisioning). */
  readonly decide: lambda.IFunction;
}

export interface JourneyStateMachineProps {
  /** The validated, compiled journey (from `buildCatalog`). */
  readonly journey: CompiledJourney;
  /** The physical state machine name, at most 80 characters; executions are scoped by it in IAM. */
  readonly stateMachineName: string;
  /** The functions the journey's Task states invoke. */
  readonly steps: JourneyStepFunctions;
  /** The table the send ledger lives in (the journey marks messages sent or failed with UpdateItem). */
  readonly runtimeTable: dynamodb.ITable;
  /** The table the journey is registered in at deploy time, so the router and the API find it. */
  readonly journeysTable: dynamodb.ITable;
  /** The verified SES identity email is sent from. */
  readonly senderEmail: string;
  /** The SES configuration set every email goes through (events, reputation). */
  readonly emailConfigurationSet: ses.IConfigurationSet;
  /** The End User Messaging (Pinpoint) application push messages go through. */
  readonly pushApplicationId: string;
  /** The stage's End User Messaging SMS configuration set (`waymark-<stage>`). */
  readonly smsConfigurationSetName: string;
  /** What SMS are sent from: a phone number, pool or sender ID, or its ARN (lib/config.ts). */
  readonly smsOriginationIdentity: string;
  /** CloudWatch namespace the journey counts its delivery outcomes in (metric `Deliveries`). */
  readonly metricsNamespace: string;
  /**
   * Retention of the execution log group.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Execution role of the AwsCustomResource provider Lambda (one per stack, shared by every registration).
   * @default - the AwsCustomResource default (a role with the AWSLambdaBasicExecutionRole managed policy)
   */
  readonly registrationRole?: iam.IRole;
  /**
   * Log group of the AwsCustomResource provider Lambda.
   * @default - the AwsCustomResource default
   */
  readonly registrationLogGroup?: logs.ILogGroup;
  /**
   * The execution role, shared with the other journeys of its stack (their permissions are the same). A journey
   * grants nothing of its own, so the shared role's policy does not grow with the journeys.
   * @default - a role of this journey's own (`Role`)
   */
  readonly role?: iam.Role;
}

/**
 * One journey: its Standard state machine (the compiled ASL with every `${Placeholder}` substituted), the version
 * published from it and its `live` alias, the execution log group, a role limited to what the journey's states call,
 * and its entry in the journeys table (which names the alias and the live version).
 */
export class JourneyStateMachine extends Construct {
  public readonly journey: CompiledJourney;
  public readonly stateMachine: sfn.StateMachine;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;
  /** `arn:...:execution:<stateMachineName>:*`, for DescribeExecution / StopExecution grants. */
  public readonly executionArnPattern: string;
  /** Puts the journey's registry item on deploy (and on every change), deletes it on removal. */
  public readonly registration: cr.AwsCustomResource;
  /**
   * The published version of the state machine's current revision: replaced (a new version number) by a deploy that
   * changes the definition or configuration, left alone by one that does not.
   */
  public readonly version: sfn.CfnStateMachineVersion;
  /** The `live` alias, pointing at `version`: where the router, the trigger API and segment entries start runs. */
  public readonly liveAlias: sfn.CfnStateMachineAlias;

  constructor(scope: Construct, id: string, props: JourneyStateMachineProps) {
    super(scope, id);
    const { journey } = props;
    if (props.stateMachineName.length > MAX_STATE_MACHINE_NAME) {
      throw new Error(
        `state machine name "${props.stateMachineName}" for journey "${journey.journey.id}" is ${props.stateMachineName.length} characters; Step Functions allows at most ${MAX_STATE_MACHINE_NAME} (shorten the stage or the journey id)`,
      );
    }
    this.journey = journey;
    this.executionArnPattern = Stack.of(this).formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${props.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    this.logGroup = stateMachineLogGroup(this, props.stateMachineName, props.logRetention);
    this.role =
      props.role ??
      new iam.Role(this, 'Role', {
        assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
        description: `Waymark journey ${journey.journey.id}`,
      });

    // Every placeholder a journey's ASL can hold (the scan function is the audience-scan state machine's alone, the
    // campaign ones campaigns').
    type JourneyPlaceholder = Exclude<Placeholder, typeof Placeholder.scanProfilesFunction | typeof Placeholder.campaignStepFunction | typeof Placeholder.audienceBucket>;
    const substitutions: Record<JourneyPlaceholder, string> = {
      [Placeholder.prepareSendFunction]: props.steps.prepareSend.functionArn,
      [Placeholder.registerWaitFunction]: props.steps.registerWait.functionArn,
      [Placeholder.resolveWaitFunction]: props.steps.resolveWait.functionArn,
      [Placeholder.loadProfileFunction]: props.steps.loadProfile.functionArn,
      [Placeholder.decideFunction]: props.steps.decide.functionArn,
      [Placeholder.runtimeTable]: props.runtimeTable.tableName,
      [Placeholder.senderEmail]: props.senderEmail,
      [Placeholder.emailConfigurationSet]: props.emailConfigurationSet.configurationSetName,
      [Placeholder.pushApplicationId]: props.pushApplicationId,
      [Placeholder.smsConfigurationSet]: props.smsConfigurationSetName,
      [Placeholder.smsOriginationIdentity]: props.smsOriginationIdentity,
      [Placeholder.metricsNamespace]: props.metricsNamespace,
    };

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: props.stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(JSON.stringify(journey.asl)),
      definitionSubstitutions: substitutions,
      role: this.role,
      tracingEnabled: true,
      // Execution data holds profiles (PII): log every event, but not its input and output.
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });

    const published = publishLiveVersion(this, this.stateMachine, `Waymark journey ${journey.journey.id}`, journey.version);
    this.version = published.version;
    this.liveAlias = published.alias;

    this.grantStepPermissions(props);
    this.registration = this.register(props);

    // A shared role is acknowledged once, by its owner.
    if (!props.role) acknowledgeJourneyRoleWildcards(this.role);
  }

  private grantStepPermissions(props: JourneyStateMachineProps): void {
    const stack = Stack.of(this);
    const { steps } = props;
    // Unqualified ARNs only: the ASL invokes $LATEST by function ARN, so no `:*` alias/version wildcard is needed.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [steps.prepareSend, steps.registerWait, steps.resolveWait, steps.loadProfile, steps.decide].map((f) => f.functionArn),
      }),
    );

    // SES v2 SendEmail authorizes against the sending identity (the address, or its verified domain) and the configuration set.
    const domain = props.senderEmail.split('@')[1];
    const sesArn = (resource: string, resourceName: string) => stack.formatArn({ service: 'ses', resource, resourceName });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ses:SendEmail'],
        resources: [
          sesArn('identity', props.senderEmail),
          sesArn('identity', domain),
          sesArn('configuration-set', props.emailConfigurationSet.configurationSetName),
        ],
      }),
    );

    // SMS through End User Messaging SMS SendTextMessage: it authorizes against the resources a send involves (the
    // configuration set, the origination identity: phone number, pool or sender ID, and the opt-out list;
    // https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsendusermessagingsmsandvoicev2.html).
    // The identity may be given as a number, an id or an ARN of any of those types, so the scope is this account's
    // sms-voice resources in this region, not "*".
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['sms-voice:SendTextMessage'],
        resources: [smsVoiceResources(this)],
      }),
    );

    // Push: one End User Messaging (Pinpoint) application, even when none is configured (the placeholder app id).
    const app = (resourceName: string) => stack.formatArn({ service: 'mobiletargeting', resource: 'apps', resourceName });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['mobiletargeting:SendMessages'],
        resources: [app(props.pushApplicationId), app(`${props.pushApplicationId}/messages`)],
      }),
    );

    // The delivery outcome metrics; PutMetricData has no resource ARN, so the namespace is the scope.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': props.metricsNamespace } },
      }),
    );

    // The ledger update after a send: UpdateItem on the runtime table, and its key for the item's encryption.
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['dynamodb:UpdateItem'], resources: [props.runtimeTable.tableArn] }));
    if (props.runtimeTable.encryptionKey) {
      props.runtimeTable.encryptionKey.grantEncryptDecrypt(this.role);
      acknowledgeDataKeyWildcards(this.role);
    }
  }

  private register(props: JourneyStateMachineProps): cr.AwsCustomResource {
    const { journey } = props;
    // The version ARN is `<state machine ARN>:<number>`: the number is its 8th colon-separated part.
    const item = journeyItem({
      journey: journey.journey,
      stateMachineArn: this.stateMachine.stateMachineArn,
      version: journey.version,
      aliasArn: this.liveAlias.attrArn,
      live: { number: Fn.select(7, Fn.split(':', this.version.attrArn)), arn: this.version.attrArn },
    });
    const key = { pk: item.pk, sk: item.sk };
    return journeysTableItem(this, 'Registration', {
      resourceType: 'Custom::WaymarkJourneyRegistration',
      journeysTable: props.journeysTable,
      item: toAttributeValues(item),
      key: toAttributeValues(key),
      // The version is in the physical id so a changed journey is a new resource: CloudFormation puts the new item,
      // then deletes the old resource, whose conditional DeleteItem leaves the new version's item alone. A new
      // state-machine version alone (same definition, new substitutions) changes the item's values: it is put again.
      physicalResourceId: `journey/${journey.journey.id}/${journey.version}`,
      deleteCondition: { expression: '#version = :version', names: { '#version': JourneyItem.version }, values: { ':version': { S: journey.version } } },
      registrationRole: props.registrationRole,
      registrationLogGroup: props.registrationLogGroup,
    });
  }
}

/** The DynamoDB JSON of a flat item of strings and booleans. */
function toAttributeValues(item: Record<string, string | boolean>): Record<string, { S: string } | { BOOL: boolean }> {
  return Object.fromEntries(Object.entries(item).map(([name, value]) => [name, typeof value === 'boolean' ? { BOOL: value } : { S: value }]));
}
