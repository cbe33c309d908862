import { NestedStack, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Duration } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { DeployedCampaign } from '../campaigns';
import { importBucket, type ExportedBucket } from '../data-stack';
import { acknowledge } from '../nag';
import { CampaignStateMachine, campaignStateMachineName } from './campaign-state-machine';
import { stateMachineLogGroup } from './journey-state-machine';

/**
 * Campaigns one `Campaigns` stack holds. The 1 MB template binds first: the largest shipped campaign, compiled, costs
 * ~19 KB of template as CDK writes it (definition, role, version, alias, registry item, schedule), so 45 make ~0.85 MB
 * (`test/infra/campaign-operations.test.ts`); resources would allow 75 (6 each and 9 shared). Beyond, shard the
 * stack (lib/README.md, resource budget). Their alarms and dashboard live in the `CampaignsMonitoring` stack.
 */
export const MAX_CAMPAIGNS = 45;

export interface CampaignsStackProps {
  readonly stage: string;
  readonly campaigns: readonly DeployedCampaign[];
  readonly campaignStep: lambda.IFunction;
  /** Imported here by its exports (a parameter from the parent would change the ARNs' spelling). */
  readonly audienceBucket: ExportedBucket;
  readonly journeysTable: dynamodb.ITable;
  readonly logRetention: logs.RetentionDays;
}

/**
 * The campaigns' nested stack: one `CampaignStateMachine` per campaign file (construct id `Campaign-<id>`), the
 * registration role and log group of its AwsCustomResource provider (one per stack), the role EventBridge Scheduler
 * assumes for every schedule here, and the schedules' dead-letter queue. Its own stack, so campaigns never spend the
 * app stack's resource budget; nothing flows back (the API grants name campaigns by the stage's pattern).
 */
export class CampaignsStack extends NestedStack {
  public readonly campaigns: ReadonlyMap<string, CampaignStateMachine>;
  public readonly registrationRole: iam.Role;
  public readonly registrationLogGroup: logs.LogGroup;
  /** The execution log group every campaign of the stack logs to (`/aws/vendedlogs/states/waymark-<stage>_c-…`). */
  public readonly executionLogGroup: logs.LogGroup;
  public readonly scheduleRole: iam.Role;
  /** Schedule invocations EventBridge Scheduler could not deliver after its retries. */
  public readonly scheduleDeadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: CampaignsStackProps) {
    super(scope, id, { description: `Waymark ${props.stage}: campaign state machines, schedules and registry items` });
    if (props.campaigns.length > MAX_CAMPAIGNS) {
      throw new Error(
        `${props.campaigns.length} campaign files: one Campaigns stack holds at most ${MAX_CAMPAIGNS} (CloudFormation's 500 resources per stack)`,
      );
    }
    this.registrationRole = new iam.Role(this, 'RegistrationRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Waymark: the AwsCustomResource provider that writes the campaign registry items',
    });
    this.registrationLogGroup = new logs.LogGroup(this, 'RegistrationLogGroup', { retention: props.logRetention });
    this.registrationLogGroup.grantWrite(this.registrationRole);

    // Scheduler assumes the role only for schedules of this account (confused deputy:
    // https://docs.aws.amazon.com/scheduler/latest/UserGuide/cross-service-confused-deputy-prevention.html).
    this.scheduleRole = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: `Waymark ${props.stage}: EventBridge Scheduler starts the scheduled campaigns' runs`,
    });
    // SSE-SQS: the schedule's execution role sends dead letters itself (configuring-schedule-dlq), no key grants.
    this.scheduleDeadLetterQueue = new sqs.Queue(this, 'ScheduleDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.scheduleDeadLetterQueue.grantSendMessages(this.scheduleRole);
    acknowledge(
      this.scheduleDeadLetterQueue,
      'AwsSolutions-SQS3',
      "This queue is itself the dead-letter queue of the campaigns' EventBridge Scheduler schedules, which cdk-nag " +
        'only recognises for SQS redrive; an alarm fires on its first visible message.',
    );

    const audienceBucket = importBucket(this, 'AudienceBucket', props.audienceBucket);
    // One for all campaigns: a state machine's events name it and its execution, so they share one group.
    this.executionLogGroup = stateMachineLogGroup(this, campaignStateMachineName(props.stage, 'campaigns'), props.logRetention);
    const byId = new Map<string, CampaignStateMachine>();
    for (const { campaign, definition } of props.campaigns) {
      byId.set(
        campaign.id,
        new CampaignStateMachine(this, `Campaign-${campaign.id}`, {
          campaign,
          definition,
          stateMachineName: campaignStateMachineName(props.stage, campaign.id),
          campaignStep: props.campaignStep,
          audienceBucket,
          journeysTable: props.journeysTable,
          registrationRole: this.registrationRole,
          registrationLogGroup: this.registrationLogGroup,
          scheduling: { role: this.scheduleRole, deadLetterQueue: this.scheduleDeadLetterQueue },
          logGroup: this.executionLogGroup,
        }),
      );
    }
    this.campaigns = byId;
  }
}
