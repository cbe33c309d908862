import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { RUN_END_EVENT_PATTERN } from '../../lambdas/core/measure/run-end';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as ses from 'aws-cdk-lib/aws-ses';
import type { Construct } from 'constructs';
import type { CompiledJourney } from '../../lambdas/core/journey';
import type { SegmentDefinition } from '../../lambdas/core/segments/rule';
import { CatalogRegistration, FILE_CATALOG_UPDATED_AT, type CatalogKind } from '../constructs/catalog-registration';
import { JourneyStateMachine } from '../constructs/journey-state-machine';
import { INLINE_CATALOG_FILE_LIMIT, INLINE_JOURNEY_LIMIT, REGISTRY_SHARDS, RegistryShard, shardOf } from '../constructs/registry-shard';
import type { DecisionFiles } from '../decisions';
import type { Rule } from '../../lambdas/core/governance/rules';
import type { JourneyStep } from '../entry-points';
import { deadLetteredTarget, deadLetterQueue, Feature, journeyStepsOf } from './feature';

const JOURNEY_STEPS: readonly JourneyStep[] = ['prepareSend', 'registerWait', 'resolveWait', 'loadProfile', 'decide'];

export interface JourneysFeatureProps {
  readonly stage: string;
  readonly journeysTable: dynamodb.ITable;
  readonly runtimeTable: dynamodb.ITable;
  readonly journeys: readonly CompiledJourney[];
  readonly segments: readonly SegmentDefinition[];
  readonly segmentsUpdatedAt: string;
  readonly decisionFiles: DecisionFiles;
  readonly decisionFilesUpdatedAt: string;
  /** The governance rule files (`rules/*.json`), registered like the other catalog files. */
  readonly rules: readonly Rule[];
  /** The journey steps other features declare (e.g. decisioning's decide); this feature adds its own. */
  readonly steps: Partial<Record<JourneyStep, lambda.IFunction>>;
  readonly senderEmail: string;
  readonly emailConfigurationSet: ses.IConfigurationSet;
  readonly pushApplicationId: string;
  readonly smsConfigurationSetName: string;
  readonly smsOriginationIdentity: string;
  readonly metricsNamespace: string;
  readonly logRetention: logs.RetentionDays;
  /** @default 0 while within INLINE_JOURNEY_LIMIT / INLINE_CATALOG_FILE_LIMIT, else REGISTRY_SHARDS */
  readonly registryShards?: number;
}

/**
 * Journeys: one Standard state machine per journey file (construct id `Journey-<id>`), their Lambda steps, the journey
 * API (list, trigger), and the registry: every journey, segment, offer and placement file written to the journeys table
 * at deploy time (origin `file`), inline or spread over nested stacks by id (`RegistryShard`, lib/README.md).
 */
export class JourneysFeature extends Feature {
  public readonly journeys: ReadonlyMap<string, JourneyStateMachine>;
  /** Role and log group of the AwsCustomResource provider that registers journeys and files. */
  public readonly registrationRole: iam.Role;
  public readonly registrationLogGroup: logs.LogGroup;
  public readonly segments: ReadonlyMap<string, CatalogRegistration>;
  public readonly offers: ReadonlyMap<string, CatalogRegistration>;
  public readonly placements: ReadonlyMap<string, CatalogRegistration>;
  public readonly rules: ReadonlyMap<string, CatalogRegistration>;
  public readonly registryShards: ReadonlyMap<number, RegistryShard>;
  /** Whether journeys and files live in nested stacks (grants then name state machines by the stage's pattern). */
  public readonly sharded: boolean;
  /** Step Functions' status change events of this stage's journey runs (default bus) → count-run-end. */
  public readonly runStatusRule: events.Rule;
  public readonly runStatusRuleDeadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: JourneysFeatureProps) {
    super(scope, id, { feature: 'journeys', logRetention: props.logRetention });
    this.createFunctions();
    const steps = { ...props.steps, ...journeyStepsOf(this.functions) };
    const missing = JOURNEY_STEPS.filter((s) => !steps[s]);
    if (missing.length > 0) throw new Error(`no entry point is declared for the journey steps ${missing.join(', ')} (lib/entry-points.ts)`);

    this.registrationRole = new iam.Role(this, 'JourneyRegistrationRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Waymark: the AwsCustomResource provider that writes journey and segment registry items',
    });
    this.registrationLogGroup = new logs.LogGroup(this, 'JourneyRegistrationLogGroup', { retention: props.logRetention });
    this.registrationLogGroup.grantWrite(this.registrationRole);

    const { decisionFiles } = props;
    const catalogFileCount = props.segments.length + decisionFiles.offers.length + decisionFiles.placements.length + props.rules.length;
    const shardCount =
      props.registryShards ?? (props.journeys.length > INLINE_JOURNEY_LIMIT || catalogFileCount > INLINE_CATALOG_FILE_LIMIT ? REGISTRY_SHARDS : 0);
    this.sharded = shardCount > 0;
    const shards = new Map<number, RegistryShard>();
    // Where a journey or file with this id lives: the stack, or the nested stack of its shard (created on first use).
    // Children of the stack itself, not of this feature: `<stack>/Journey-<id>` is the construct path tests pin, and
    // a nested stack's path is the owner its registry items record (`deployedBy`).
    const stack = Stack.of(this);
    const home = (key: string) => {
      if (shardCount === 0) {
        return { scope: stack as Construct, registrationRole: this.registrationRole, registrationLogGroup: this.registrationLogGroup, journeyRole: () => undefined };
      }
      const n = shardOf(key, shardCount);
      let shard = shards.get(n);
      if (!shard) {
        shard = new RegistryShard(stack, `Registry${n}`, { description: `Waymark ${props.stage}: journeys and catalog files of shard ${n}`, logRetention: props.logRetention });
        shards.set(n, shard);
      }
      const within = shard;
      return { scope: within as Construct, registrationRole: within.registrationRole, registrationLogGroup: within.registrationLogGroup, journeyRole: () => within.journeyRole() };
    };
    this.registryShards = shards;

    const byId = new Map<string, JourneyStateMachine>();
    for (const journey of props.journeys) {
      const at = home(`journey/${journey.journey.id}`);
      byId.set(
        journey.journey.id,
        new JourneyStateMachine(at.scope, `Journey-${journey.journey.id}`, {
          journey,
          stateMachineName: `waymark-${props.stage}-${journey.journey.id}`,
          steps: steps as Record<JourneyStep, lambda.IFunction>,
          runtimeTable: props.runtimeTable,
          journeysTable: props.journeysTable,
          senderEmail: props.senderEmail,
          emailConfigurationSet: props.emailConfigurationSet,
          pushApplicationId: props.pushApplicationId,
          smsConfigurationSetName: props.smsConfigurationSetName,
          smsOriginationIdentity: props.smsOriginationIdentity,
          metricsNamespace: props.metricsNamespace,
          logRetention: props.logRetention,
          registrationRole: at.registrationRole,
          registrationLogGroup: at.registrationLogGroup,
          role: at.journeyRole(),
        }),
      );
    }
    this.journeys = byId;

    // Segments, offers and placements: each file entry becomes an item of the journeys table (origin "file"), through
    // the journeys' provider.
    const register = (kind: CatalogKind, definition: { id: string }, updatedAt: string) => {
      const at = home(`${kind}/${definition.id}`);
      return [
        definition.id,
        new CatalogRegistration(at.scope, `${kind[0].toUpperCase()}${kind.slice(1)}-${definition.id}`, {
          kind,
          definition,
          journeysTable: props.journeysTable,
          updatedAt,
          registrationRole: at.registrationRole,
          registrationLogGroup: at.registrationLogGroup,
        }),
      ] as const;
    };
    this.segments = new Map(props.segments.map((segment) => register('segment', segment, props.segmentsUpdatedAt)));
    this.placements = new Map(decisionFiles.placements.map((p) => register('placement', p, props.decisionFilesUpdatedAt)));
    this.offers = new Map(decisionFiles.offers.map((o) => register('offer', o, props.decisionFilesUpdatedAt)));
    this.rules = new Map(props.rules.map((r) => register('rule', r, FILE_CATALOG_UPDATED_AT)));

    // Runs that end by themselves (completed, failed, timed out) are counted from Step Functions' status change
    // events, which go to the account's default bus only
    // (https://docs.aws.amazon.com/step-functions/latest/dg/eventbridge-integration.html); the ARN prefix keeps the
    // rule to this stage's journeys (runs started on an alias or a version still name the state machine).
    this.runStatusRuleDeadLetterQueue = deadLetterQueue(this, 'RunStatusRuleDeadLetterQueue');
    const prefix = stack.formatArn({ service: 'states', resource: 'stateMachine', resourceName: `waymark-${props.stage}-`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    this.runStatusRule = new events.Rule(this, 'RunStatusRule', {
      eventBus: events.EventBus.fromEventBusName(this, 'DefaultEventBus', 'default'),
      description: `Journey runs of the Waymark ${props.stage} stage that ended (SUCCEEDED, FAILED, TIMED_OUT) go to count-run-end`,
      eventPattern: {
        ...(RUN_END_EVENT_PATTERN as events.EventPattern),
        detail: { ...(RUN_END_EVENT_PATTERN.detail as Record<string, unknown>), stateMachineArn: [{ prefix }] },
      },
    });
    this.runStatusRule.addTarget(
      deadLetteredTarget(this.fn('countRunEnd').function, this.runStatusRuleDeadLetterQueue),
    );
  }
}
