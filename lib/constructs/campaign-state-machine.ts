import { createHash } from 'node:crypto';
import { ArnFormat, Fn, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { resultPrefix } from '../../lambdas/core/campaigns/compile';
import { campaignItem, type CampaignExecutionInput } from '../../lambdas/core/campaigns/contract';
import type { Campaign, Schedule } from '../../lambdas/core/campaigns/schema';
import { localToInstant } from '../../lambdas/core/governance/local-time';
import { Placeholder, type AslDefinition } from '../../lambdas/core/journey/asl';
import { acknowledgeWildcards, resourceFinding } from '../nag';
import { MAX_STATE_MACHINE_NAME, publishLiveVersion, stateMachineLogGroup } from './journey-state-machine';
import { journeysTableItem } from './journeys-table-item';

/**
 * `waymark-<stage>_c-<campaignId>`: at most 8 + 16 + 3 + 48 = 75 characters. The `_` (which no stage or journey id
 * holds) keeps campaigns out of the journeys' `waymark-<stage>-*` patterns (grants, the run-status rule).
 */
export const campaignStateMachineName = (stage: string, campaignId: string): string => `waymark-${stage}_c-${campaignId}`;

/** Where the audience bucket keeps run sets (ItemReader); a campaign's ResultWriters write under `resultsPrefixOf`. */
export const RUNS_PREFIX = 'runs/';
/** `runs/<campaignId>/results/`: where compileCampaign's ResultWriters write (resultPrefix), expired with the runs. */
export const resultsPrefixOf = (campaignId: string): string => resultPrefix(campaignId, '');

/** The placeholders a campaign's ASL may hold (lambdas/core/journey/asl.ts); any other fails synth. */
const CAMPAIGN_PLACEHOLDERS = [Placeholder.campaignStepFunction, Placeholder.audienceBucket] as const;

/** EventBridge Scheduler's context attribute for the time an invocation was scheduled for. */
export const SCHEDULED_TIME = '<aws.scheduler.scheduled-time>';

/** Retries of a schedule's StartExecution before its event goes to the dead-letter queue. */
export const SCHEDULE_RETRY = { maximumRetryAttempts: 8, maximumEventAgeInSeconds: 3600 } as const;

/**
 * The Scheduler expression and its window for a campaign's schedule, or undefined for an on-demand campaign. Local
 * date-times are read in the schedule's zone: `at(...)` takes them as they are (with ScheduleExpressionTimezone);
 * StartDate/EndDate are instants, converted here.
 * https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html
 */
export function scheduleExpressionOf(schedule: Schedule): { expression: string; timeZone: string; startDate?: string; endDate?: string } | undefined {
  const withSeconds = (local: string) => (local.length === 16 ? `${local}:00` : local);
  const instant = (local: string, zone: string) => {
    const [date, time] = withSeconds(local).split('T');
    const [year, month, day] = date.split('-').map(Number);
    const [hour, minute, second] = time.split(':').map(Number);
    return new Date(localToInstant({ year, month, day, hour, minute, second }, zone)).toISOString().replace('.000Z', 'Z');
  };
  switch (schedule.type) {
    case 'on-demand':
      return undefined;
    case 'once':
      return { expression: `at(${withSeconds(schedule.at)})`, timeZone: schedule.timeZone };
    case 'recurring':
      return {
        expression: `cron(${schedule.cron})`,
        timeZone: schedule.timeZone,
        ...(schedule.start === undefined ? {} : { startDate: instant(schedule.start, schedule.timeZone) }),
        ...(schedule.end === undefined ? {} : { endDate: instant(schedule.end, schedule.timeZone) }),
      };
  }
}

/** Whether a definition holds a Distributed Map (at any depth: inside Parallel branches too). */
export function hasDistributedMap(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(hasDistributedMap);
  if (node === null || typeof node !== 'object') return false;
  const record = node as Record<string, unknown>;
  const config = (record.ProcessorConfig ?? {}) as { Mode?: unknown };
  return config.Mode === 'DISTRIBUTED' || Object.values(record).some(hasDistributedMap);
}

/** The fixed `Prefix` of every ResultWriter in a definition (at any depth); a dynamic or missing one is refused. */
export function resultWriterPrefixes(node: unknown, into: string[] = []): string[] {
  if (Array.isArray(node)) {
    for (const item of node) resultWriterPrefixes(item, into);
  } else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'ResultWriter') {
        const prefix = (value as { Parameters?: { Prefix?: unknown } }).Parameters?.Prefix;
        into.push(typeof prefix === 'string' ? prefix : '');
      } else resultWriterPrefixes(value, into);
    }
  }
  return into;
}

/** The hash naming a deployed campaign's file and compiled definition (the registry item's `version`). */
export const campaignVersion = (campaign: Campaign, definition: AslDefinition): string =>
  createHash('sha256').update(JSON.stringify({ campaign, definition })).digest('hex').slice(0, 16);

export interface CampaignScheduling {
  /** Assumed by EventBridge Scheduler (shared by the campaigns of a stack); this campaign adds StartExecution on itself. */
  readonly role: iam.Role;
  readonly deadLetterQueue: sqs.IQueue;
}

export interface CampaignStateMachineProps {
  readonly campaign: Campaign;
  /** The compiled definition (`compileCampaign`, or a hand-written ASL in tests). */
  readonly definition: AslDefinition;
  /** `campaignStateMachineName(stage, id)`. */
  readonly stateMachineName: string;
  /** Every Task invokes it (`${CampaignStepFunctionArn}`). */
  readonly campaignStep: lambda.IFunction;
  /** Run sets (ItemReader, `${AudienceBucketName}`) and Distributed Map results (ResultWriter). */
  readonly audienceBucket: s3.IBucket;
  /** The registry item goes to the journeys table (pk CAMPAIGNS). */
  readonly journeysTable: dynamodb.ITable;
  readonly registrationRole: iam.IRole;
  readonly registrationLogGroup: logs.ILogGroup;
  /** Needed when the campaign is scheduled (once or recurring). */
  readonly scheduling?: CampaignScheduling;
  /**
   * The execution log group, shared by the campaigns of a stack (one resource fewer per campaign: lib/README.md,
   * resource budget).
   * @default - a log group of this campaign's own (`LogGroup`)
   */
  readonly logGroup?: logs.ILogGroup;
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * One campaign: its Standard state machine (one execution per run; the compiled ASL with its two placeholders
 * substituted), the execution log group, a role limited to what the definition calls, its EventBridge Scheduler
 * schedule when it is scheduled, and its registry item (`campaignItem`) in the journeys table.
 */
export class CampaignStateMachine extends Construct {
  public readonly campaign: Campaign;
  public readonly stateMachine: sfn.StateMachine;
  public readonly role: iam.Role;
  /**
   * The role's one inline policy: what the definition calls, X-Ray and log delivery. Inline (not an AWS::IAM::Policy
   * of its own) to spend one resource per campaign less; statements go here, never through `role.addToPolicy`.
   */
  public readonly policy: iam.PolicyDocument;
  public readonly logGroup: logs.ILogGroup;
  /** `campaignVersion` of the file and definition. */
  public readonly version: string;
  /**
   * The published version of the state machine's current revision: replaced (a new version number) by a deploy that
   * changes the campaign's definition or substitutions, left alone by one that does not (as journeys').
   */
  public readonly publishedVersion: sfn.CfnStateMachineVersion;
  /** The `live` alias, pointing at `publishedVersion`: where the API and the schedule start runs. */
  public readonly liveAlias: sfn.CfnStateMachineAlias;
  /** Absent for on-demand campaigns. */
  public readonly schedule?: scheduler.CfnSchedule;
  public readonly registration: cr.AwsCustomResource;

  constructor(scope: Construct, id: string, props: CampaignStateMachineProps) {
    super(scope, id);
    const { campaign, definition } = props;
    if (props.stateMachineName.length > MAX_STATE_MACHINE_NAME) {
      const { length } = props.stateMachineName;
      throw new Error(`state machine name "${props.stateMachineName}" is ${length} characters; Step Functions allows at most ${MAX_STATE_MACHINE_NAME}`);
    }
    this.campaign = campaign;
    this.version = campaignVersion(campaign, definition);
    this.logGroup = props.logGroup ?? stateMachineLogGroup(this, props.stateMachineName, props.logRetention);
    this.policy = new iam.PolicyDocument();
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
      description: `Waymark campaign ${campaign.id}`,
      inlinePolicies: { Campaign: this.policy },
    });

    const available: Record<(typeof CAMPAIGN_PLACEHOLDERS)[number], string> = {
      [Placeholder.campaignStepFunction]: props.campaignStep.functionArn,
      [Placeholder.audienceBucket]: props.audienceBucket.bucketName,
    };
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: props.stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(JSON.stringify(definition)),
      definitionSubstitutions: substitutionsFor(campaign.id, definition, available),
      // The grants CDK would add for tracing and logging are in the inline policy (grant()).
      role: this.role.withoutPolicyUpdates(),
      tracingEnabled: true,
      // Run state holds no member data, but batch inputs do: every event, without input and output (as journeys).
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    const published = publishLiveVersion(this, this.stateMachine, `Waymark campaign ${campaign.id}`, this.version);
    this.publishedVersion = published.version;
    this.liveAlias = published.alias;
    this.grant(props);
    if (props.scheduling) this.schedule = this.scheduleOf(props.scheduling);
    this.registration = journeysTableItem(this, 'Registration', {
      resourceType: 'Custom::WaymarkCampaignRegistration',
      journeysTable: props.journeysTable,
      item: attributeValues(
        campaignItem({
          campaign,
          stateMachineArn: this.stateMachine.stateMachineArn,
          version: this.version,
          ...(this.schedule ? { scheduleName: this.schedule.ref } : {}),
          aliasArn: this.liveAlias.attrArn,
          // The version ARN is `<state machine ARN>:<number>`: the number is its 8th colon-separated part.
          live: { number: Fn.select(7, Fn.split(':', this.publishedVersion.attrArn)), arn: this.publishedVersion.attrArn },
        }),
      ),
      key: attributeValues({ pk: 'CAMPAIGNS', sk: `CAMPAIGN#${campaign.id}` }),
      // A changed campaign is a new resource: the new item is put, then the old resource's conditional delete leaves it.
      physicalResourceId: `campaign/${campaign.id}/${this.version}`,
      deleteCondition: { expression: '#version = :version', names: { '#version': 'version' }, values: { ':version': { S: this.version } } },
      registrationRole: props.registrationRole,
      registrationLogGroup: props.registrationLogGroup,
    });
  }

  /**
   * What the definition calls: the campaign-step function, and for Distributed Maps (IAM policies for using
   * Distributed Map states: https://docs.aws.amazon.com/step-functions/latest/dg/iam-policies-eg-dist-map.html)
   * StartExecution on itself (the child workflows), Describe/StopExecution on its executions (children are
   * `execution:<name>/<map run label>:<id>`; the audience's children too), GetObject of the run sets (ItemReader) and
   * the ResultWriter's multipart PutObject under `runs/<campaignId>/results/` (where compileCampaign writes them), with
   * the bucket's key. A ResultWriter writing elsewhere fails synth rather than every run.
   */
  private grant(props: CampaignStateMachineProps): void {
    const stack = Stack.of(this);
    const add = (actions: string[], resources: string[]) => this.policy.addStatements(new iam.PolicyStatement({ actions, resources }));
    // Unqualified ARN only: the ASL invokes $LATEST by function ARN.
    add(['lambda:InvokeFunction'], [props.campaignStep.functionArn]);
    // What sfn.StateMachine grants for tracing and vended log delivery (neither has resource-level permissions).
    add(['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'], ['*']);
    add(
      [
        'logs:CreateLogDelivery',
        'logs:GetLogDelivery',
        'logs:UpdateLogDelivery',
        'logs:DeleteLogDelivery',
        'logs:ListLogDeliveries',
        'logs:PutResourcePolicy',
        'logs:DescribeResourcePolicies',
        'logs:DescribeLogGroups',
      ],
      ['*'],
    );
    const findings: string[] = [];
    if (hasDistributedMap(props.definition)) {
      // By name, not by the state machine's Ref: the role's policy must not depend on the state machine it serves.
      const name = props.stateMachineName;
      const arn = (resource: string, resourceName: string) =>
        stack.formatArn({ service: 'states', resource, resourceName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
      const executions = [arn('execution', `${name}:*`), arn('execution', `${name}/*`)];
      add(['states:StartExecution'], [arn('stateMachine', name)]);
      add(['states:DescribeExecution', 'states:StopExecution'], executions);
      const runs = props.audienceBucket.arnForObjects(`${RUNS_PREFIX}*`);
      const resultsPrefix = resultsPrefixOf(props.campaign.id);
      const outside = resultWriterPrefixes(props.definition).filter((p) => !p.startsWith(resultsPrefix));
      if (outside.length > 0) {
        const list = outside.map((p) => JSON.stringify(p)).join(', ');
        throw new Error(`campaign "${props.campaign.id}": ResultWriter Prefix ${list} is not under "${resultsPrefix}"`);
      }
      const results = props.audienceBucket.arnForObjects(`${resultsPrefix}*`);
      add(['s3:GetObject'], [runs]);
      add(['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'], [results]);
      if (props.audienceBucket.encryptionKey) add(['kms:Decrypt', 'kms:GenerateDataKey'], [props.audienceBucket.encryptionKey.keyArn]);
      findings.push(...[...executions, runs, results].map((a) => resourceFinding(this, a)));
    }
    acknowledgeWildcards(
      this.role,
      ['Resource::*', ...findings],
      'Resource "*": X-Ray tracing and CloudWatch Logs vended log delivery have no resource-level permissions. ' +
        `The rest is campaign ${props.campaign.id}'s own: its executions (run ids and Distributed Map children are ` +
        "named at run time) and the audience bucket's runs/ prefix (keys named per run, results under " +
        'runs/<id>/results/).',
    );
  }

  /**
   * `once` → `at(...)`, `recurring` → `cron(...)`, in the campaign's zone, no flexible window; the target is the
   * templated StartExecution of this state machine with the occurrence (Scheduler context attributes:
   * https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-context-attributes.html), from which
   * `start` derives the run id, so a repeated delivery of one occurrence never runs twice. Retries within an hour,
   * then the dead-letter queue (https://docs.aws.amazon.com/scheduler/latest/UserGuide/configuring-schedule-dlq.html).
   */
  private scheduleOf(scheduling: CampaignScheduling): scheduler.CfnSchedule | undefined {
    const expression = scheduleExpressionOf(this.campaign.schedule);
    if (!expression) return undefined;
    // Step Functions authorizes a start on an alias against the state machine's ARN
    // (https://docs.aws.amazon.com/step-functions/latest/dg/auth-version-alias.html).
    scheduling.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [this.stateMachine.stateMachineArn] }),
    );
    const input: CampaignExecutionInput = { campaignId: this.campaign.id, trigger: 'schedule', occurrence: SCHEDULED_TIME };
    const schedule = new scheduler.CfnSchedule(this, 'Schedule', {
      description: `Waymark campaign ${this.campaign.id}: ${this.campaign.schedule.type}`,
      scheduleExpression: expression.expression,
      scheduleExpressionTimezone: expression.timeZone,
      startDate: expression.startDate,
      endDate: expression.endDate,
      flexibleTimeWindow: { mode: 'OFF' },
      state: 'ENABLED',
      target: {
        // The live alias: a deploy moves it, so the next occurrence runs the new version.
        arn: this.liveAlias.attrArn,
        roleArn: scheduling.role.roleArn,
        input: JSON.stringify(input),
        retryPolicy: SCHEDULE_RETRY,
        deadLetterConfig: { arn: scheduling.deadLetterQueue.queueArn },
      },
    });
    // The role's policy (StartExecution, SendMessage) must exist before the first invocation.
    schedule.node.addDependency(scheduling.role);
    return schedule;
  }
}

/** The substitutions of exactly the placeholders the definition holds; synth fails on one a campaign may not use. */
function substitutionsFor(campaignId: string, definition: AslDefinition, available: Record<string, string>): Record<string, string> {
  const used = [...new Set([...JSON.stringify(definition).matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]))].sort();
  const unknown = used.filter((name) => !(CAMPAIGN_PLACEHOLDERS as readonly string[]).includes(name));
  const list = (names: readonly string[]) => names.map((n) => `\${${n}}`).join(', ');
  if (unknown.length > 0) {
    throw new Error(`campaign "${campaignId}": its definition uses ${list(unknown)}; a campaign may use only ${list(CAMPAIGN_PLACEHOLDERS)}`);
  }
  return Object.fromEntries(used.map((name) => [name, available[name]]));
}

/** The DynamoDB JSON of a flat item of strings. */
const attributeValues = (item: Record<string, string>): Record<string, { S: string }> =>
  Object.fromEntries(Object.entries(item).map(([k, v]) => [k, { S: v }]));
