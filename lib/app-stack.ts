import { ArnFormat, CfnOutput, CrossStackReferences, Duration, ReferenceStrength, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as ses from 'aws-cdk-lib/aws-ses';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { EnvKey, PLATFORM_SOURCE_PREFIX, ProfileIndex } from '../lambdas/core/config/env-keys';
import { SES_DELIVERY_EVENT_PATTERN } from '../lambdas/core/consent/ses-events';
import { DELIVERY_METRIC, type CompiledJourney } from '../lambdas/core/journey';
import { DEFAULT_SCAN_SEGMENTS } from '../lambdas/core/segments/batch';
import type { AudienceScanInput } from '../lambdas/core/segments/ports';
import type { SegmentDefinition } from '../lambdas/core/segments/rule';
import { NO_PUSH_APPLICATION, requirePushApplication } from './config';
import { AudienceScanStateMachine } from './constructs/audience-scan-state-machine';
import { unknownReferences } from '../lambdas/core/journey/references';
import { CatalogRegistration, FILE_CATALOG_UPDATED_AT, type CatalogKind } from './constructs/catalog-registration';
import { JourneyStateMachine } from './constructs/journey-state-machine';
import { OperationsDashboard } from './constructs/operations-dashboard';
import { INLINE_CATALOG_FILE_LIMIT, INLINE_JOURNEY_LIMIT, REGISTRY_SHARDS, RegistryShard, shardOf } from './constructs/registry-shard';
import { HandlerName, WaymarkFunction, type WaymarkFunctionProps } from './constructs/waymark-function';
import { loadDecisionFiles, type DecisionFiles } from './decisions';
import { loadJourneys } from './journeys';
import { acknowledge, acknowledgeDataKeyWildcards, acknowledgeWildcards, resourceFinding } from './nag';
import { loadSegments } from './segments';
import { loadRules } from './rules';
import type { Rule } from '../lambdas/core/governance/rules';

export interface WaymarkAppStackProps extends StackProps {
  /** The stage name; it prefixes physical names (`waymark-<stage>-<journeyId>` state machines, the API name). */
  readonly stage: string;
  /** Profiles, identities and consents. */
  readonly profilesTable: dynamodb.ITable;
  /** The journey registry. */
  readonly journeysTable: dynamodb.ITable;
  /** Enrollments, waits, the send ledger, rejected events. */
  readonly runtimeTable: dynamodb.ITable;
  /** The business event bus. */
  readonly eventBus: events.IEventBus;
  /** HMAC key of unsubscribe links (data stack, retained). */
  readonly unsubscribeSecret: secretsmanager.ISecret;
  /** The privacy key of profile ids and the suppression list (data stack, retained, never rotated). */
  readonly privacyKeySecret: secretsmanager.ISecret;
  /** The verified SES identity journeys send email from. */
  readonly senderEmail: string;
  /**
   * The End User Messaging (Pinpoint) application push messages go through.
   * @default NO_PUSH_APPLICATION ('none': push sends fail, and the permission stays scoped to that one app ARN)
   */
  readonly pushApplicationId?: string;
  /**
   * Email address subscribed to the alarm topic.
   * @default - no subscription (subscribe to `alarmTopic` yourself)
   */
  readonly alarmEmail?: string;
  /**
   * The compiled journeys, one state machine each.
   * @default loadJourneys() - every `statemachines/*.json`
   */
  readonly journeys?: readonly CompiledJourney[];
  /**
   * The file segments, written to the journeys table at deploy time (origin `file`).
   * @default loadSegments() - every `segments/*.json`
   */
  readonly segments?: readonly SegmentDefinition[];
  /**
   * The `updatedAt` written with the file segments (ISO-8601).
   * @default - the synth time (so every deployment re-puts the file segments, unchanged but for this)
   */
  readonly segmentsUpdatedAt?: string;
  /**
   * The file offers and placements, written to the journeys table at deploy time (origin `file`).
   * @default loadDecisionFiles() - every `offers/*.json` and `placements/*.json`
   */
  readonly decisionFiles?: DecisionFiles;
  /**
   * The `updatedAt` written with the file offers and placements.
   * @default FILE_CATALOG_UPDATED_AT ('deployed': a constant, so the template is the same on every synth; each item's
   * `contentHash` identifies its content)
   */
  readonly decisionFilesUpdatedAt?: string;
  /**
   * The governance rule files, written to the journeys table at deploy time (origin `file`, updatedAt 'deployed').
   * @default loadRules() - every `rules/*.json`
   */
  readonly rules?: readonly Rule[];
  /**
   * Retention of every log group of this stack (functions, state machines, API access logs).
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Steady-state requests per second across the REST API stage.
   * @default 100
   */
  readonly apiThrottlingRateLimit?: number;
  /**
   * Burst of requests across the REST API stage.
   * @default 200
   */
  readonly apiThrottlingBurstLimit?: number;
  /**
   * Steady-state requests per second of each public `/unsubscribe` method (GET, POST), a limit of its own.
   * @default 10
   */
  readonly unsubscribeThrottlingRateLimit?: number;
  /**
   * Burst of each public `/unsubscribe` method.
   * @default 20
   */
  readonly unsubscribeThrottlingBurstLimit?: number;
  /**
   * Nested stacks the journeys and the segment, offer and placement files are spread over by id (`shardOf`), or 0 to
   * keep them all in this stack. Fixed once chosen: changing it moves resources between stacks (see lib/README.md).
   * @default 0 while there are at most INLINE_JOURNEY_LIMIT journeys and INLINE_CATALOG_FILE_LIMIT files, else REGISTRY_SHARDS
   */
  readonly registryShards?: number;
}

/** The REST API's stage (the path prefix of every route). */
export const API_STAGE_NAME = 'v1';

/** The audience-scan state machine is `waymark-<stage>-<this>`, so no journey may have this id. */
export const AUDIENCE_SCAN_NAME = 'audience-scan';

/** Parallel-scan segments (Map iterations) of the scheduled re-check of time-based segments. */
export const RECHECK_SCAN_SEGMENTS = DEFAULT_SCAN_SEGMENTS;

/** The Lambda functions of the platform, by role. */
export interface WaymarkFunctions {
  readonly routeEvent: WaymarkFunction;
  readonly ingestEvent: WaymarkFunction;
  readonly triggerJourney: WaymarkFunction;
  readonly listJourneys: WaymarkFunction;
  readonly listRejectedEvents: WaymarkFunction;
  readonly prepareSend: WaymarkFunction;
  readonly registerWait: WaymarkFunction;
  readonly resolveWait: WaymarkFunction;
  readonly loadProfile: WaymarkFunction;
  readonly getProfile: WaymarkFunction;
  readonly findProfile: WaymarkFunction;
  readonly updateProfileAttributes: WaymarkFunction;
  readonly eraseProfile: WaymarkFunction;
  readonly exportProfile: WaymarkFunction;
  readonly getConsent: WaymarkFunction;
  readonly updateConsent: WaymarkFunction;
  readonly confirmUnsubscribe: WaymarkFunction;
  readonly unsubscribeProfile: WaymarkFunction;
  readonly recordDeliveryEvent: WaymarkFunction;
  readonly listSegments: WaymarkFunction;
  readonly getSegment: WaymarkFunction;
  readonly createSegment: WaymarkFunction;
  readonly putSegment: WaymarkFunction;
  readonly deleteSegment: WaymarkFunction;
  readonly evaluateSegment: WaymarkFunction;
  readonly getSegmentSnapshot: WaymarkFunction;
  readonly estimateSegment: WaymarkFunction;
  readonly scanProfiles: WaymarkFunction;
  readonly decide: WaymarkFunction;
  readonly listDecisions: WaymarkFunction;
  readonly listOffers: WaymarkFunction;
  readonly getOffer: WaymarkFunction;
  readonly createOffer: WaymarkFunction;
  readonly putOffer: WaymarkFunction;
  readonly deleteOffer: WaymarkFunction;
  readonly listPlacements: WaymarkFunction;
  readonly getPlacement: WaymarkFunction;
  readonly createPlacement: WaymarkFunction;
  readonly putPlacement: WaymarkFunction;
  readonly deletePlacement: WaymarkFunction;
  readonly decideStep: WaymarkFunction;
}

/**
 * The stateless half of Waymark: functions, one state machine per journey (registered in the journeys table),
 * the routing rule on the bus, the marketer REST API (IAM auth), and alarms on every dead-letter queue,
 * failed journey executions and router errors.
 */
export class WaymarkAppStack extends Stack {
  public readonly functions: WaymarkFunctions;
  /** Journey state machines by journey id; construct ids are `Journey-<id>`. */
  public readonly journeys: ReadonlyMap<string, JourneyStateMachine>;
  /** The SES v2 configuration set every journey email goes through. */
  public readonly emailConfigurationSet: ses.ConfigurationSet;
  /** Events EventBridge could not deliver to the router (after its retries). */
  public readonly routeEventRuleDeadLetterQueue: sqs.Queue;
  /** Router invocations that failed after Lambda's asynchronous retries. */
  public readonly routeEventFunctionDeadLetterQueue: sqs.Queue;
  /** Sends every business event (any source not starting with `waymark.`) to the router. */
  public readonly routeEventRule: events.Rule;
  public readonly api: apigw.RestApi;
  public readonly apiAccessLogGroup: logs.LogGroup;
  public readonly apiRequestValidator: apigw.RequestValidator;
  /** Role and log group of the AwsCustomResource provider that registers journeys. */
  public readonly registrationRole: iam.Role;
  public readonly registrationLogGroup: logs.LogGroup;
  /** Encrypts the alarm topic; its policy lets CloudWatch publish. */
  public readonly alarmTopicKey: kms.Key;
  public readonly alarmTopic: sns.Topic;
  public readonly alarms: readonly cloudwatch.Alarm[];
  /** The stage's CloudWatch dashboard (`waymark-<stage>`) and its SES reputation alarms. */
  public readonly operations: OperationsDashboard;
  /** SES bounces and complaints (default bus) → record-delivery-event, with its dead-letter queues. */
  public readonly deliveryEventRule: events.Rule;
  public readonly deliveryEventRuleDeadLetterQueue: sqs.Queue;
  public readonly deliveryEventFunctionDeadLetterQueue: sqs.Queue;
  /** HMAC key of unsubscribe links (from the data stack). */
  public readonly unsubscribeSecret: secretsmanager.ISecret;
  /** The privacy key: profile ids, suppression-list keys, identity hashes of rejected events (from the data stack). */
  public readonly privacyKeySecret: secretsmanager.ISecret;
  /** GET and POST /unsubscribe: the only methods without IAM authorization. */
  public readonly unsubscribeMethods: readonly apigw.Method[];
  /** Audience snapshots and the scheduled re-check of time-based segments (Map over parallel-scan segments). */
  public readonly audienceScan: AudienceScanStateMachine;
  /** File segments by id, each written to the journeys table at deploy time; construct ids are `Segment-<id>`. */
  public readonly segments: ReadonlyMap<string, CatalogRegistration>;
  /** Hourly (default bus schedule): starts the audience scan with a re-check job, with its dead-letter queue. */
  public readonly audienceRecheckRule: events.Rule;
  public readonly audienceRecheckRuleDeadLetterQueue: sqs.Queue;
  /** File offers by id, each written to the journeys table at deploy time; construct ids are `Offer-<id>`. */
  public readonly offers: ReadonlyMap<string, CatalogRegistration>;
  /** File placements by id, likewise; construct ids are `Placement-<id>`. */
  public readonly placements: ReadonlyMap<string, CatalogRegistration>;
  /** File governance rules by id, likewise; construct ids are `Rule-<id>`. */
  public readonly rules: ReadonlyMap<string, CatalogRegistration>;
  /** The nested stacks journeys and files are spread over (`Registry<n>`), by shard number; empty when all are inline. */
  public readonly registryShards: ReadonlyMap<number, RegistryShard>;

  constructor(scope: Construct, id: string, props: WaymarkAppStackProps) {
    super(scope, id, props);
    // Strong (Export/ImportValue): CloudFormation then refuses to delete or replace a table or the bus this stack uses.
    CrossStackReferences.of(this).consume(ReferenceStrength.STRONG);
    const logRetention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    const pushApplicationId = props.pushApplicationId ?? NO_PUSH_APPLICATION;
    const journeys = props.journeys ?? loadJourneys();
    const segments = props.segments ?? loadSegments();
    requirePushApplication({ stage: props.stage, pushApplicationId }, journeys);
    const clash = journeys.find((j) => j.journey.id === AUDIENCE_SCAN_NAME);
    if (clash) throw new Error(`journey id "${AUDIENCE_SCAN_NAME}" is reserved: the audience-scan state machine is named waymark-${props.stage}-${AUDIENCE_SCAN_NAME}`);
    const decisionFiles = props.decisionFiles ?? loadDecisionFiles();
    const rules = props.rules ?? loadRules();
    // Journeys must name deployed segments and placements: otherwise an entry never fires, a branch is never taken, or a
    // decide step fails every run.
    const unknown = unknownReferences(
      journeys.map((j) => j.journey),
      { segments: new Set(segments.map((x) => x.id)), placements: new Set(decisionFiles.placements.map((p) => p.id)) },
    );
    if (unknown.length > 0) throw new Error(`journeys name segments or placements that are not deployed: ${unknown.join('; ')}`);

    this.emailConfigurationSet = new ses.ConfigurationSet(this, 'EmailConfigurationSet', {
      // Named per stage: what `waymark doctor` looks up, and what the stage's SES rule matches in `ses:configuration-set`.
      configurationSetName: `waymark-${props.stage}`,
      reputationMetrics: true,
      sendingEnabled: true,
    });
    this.routeEventRuleDeadLetterQueue = this.deadLetterQueue('RouteEventRuleDeadLetterQueue');
    this.routeEventFunctionDeadLetterQueue = this.deadLetterQueue('RouteEventFunctionDeadLetterQueue');
    this.deliveryEventRuleDeadLetterQueue = this.deadLetterQueue('DeliveryEventRuleDeadLetterQueue');
    this.deliveryEventFunctionDeadLetterQueue = this.deadLetterQueue('DeliveryEventFunctionDeadLetterQueue');
    this.audienceRecheckRuleDeadLetterQueue = this.deadLetterQueue('AudienceRecheckRuleDeadLetterQueue');
    // The HMAC key of one-click unsubscribe links (read by prepare-send to sign, by the unsubscribe functions to verify)
    // and the privacy key live in the data stack, so replacing this stack keeps both.
    this.unsubscribeSecret = props.unsubscribeSecret;
    this.privacyKeySecret = props.privacyKeySecret;

    // --- Functions. Every handler loads all three table names at cold start (lambdas/shared/env.ts).
    const tables = {
      [EnvKey.profilesTable]: props.profilesTable.tableName,
      [EnvKey.journeysTable]: props.journeysTable.tableName,
      [EnvKey.runtimeTable]: props.runtimeTable.tableName,
    };
    const fn = (constructId: string, handler: HandlerName, description: string, extra: Partial<WaymarkFunctionProps> = {}) =>
      new WaymarkFunction(this, constructId, { handler, description, logRetention, ...extra, environment: { ...tables, ...extra.environment } });
    this.functions = {
      routeEvent: fn('RouteEvent', HandlerName.routeEvent, 'Routes a business event: profile upsert, journey entries, waits resumed', {
        timeout: Duration.seconds(30),
        deadLetterQueue: this.routeEventFunctionDeadLetterQueue,
        retryAttempts: 2,
        maxEventAge: Duration.hours(6),
        // ProfileMerged goes back onto the bus (the route rule ignores waymark.* sources).
        environment: { [EnvKey.eventBusName]: props.eventBus.eventBusName },
      }),
      ingestEvent: fn('IngestEvent', HandlerName.ingestEvent, 'POST /events: validates an event and puts it on the bus', {
        environment: { [EnvKey.eventBusName]: props.eventBus.eventBusName },
      }),
      triggerJourney: fn('TriggerJourney', HandlerName.triggerJourney, 'POST /journeys/{id}/trigger: starts an API-triggered journey for a profile'),
      listJourneys: fn('ListJourneys', HandlerName.listJourneys, 'GET /journeys: the registered journeys'),
      listRejectedEvents: fn('ListRejectedEvents', HandlerName.listRejectedEvents, 'GET /events/rejected: invalid events kept with their reasons'),
      prepareSend: fn('PrepareSend', HandlerName.prepareSend, 'Journey step: pre-send guard, ledger entry, rendered message'),
      registerWait: fn('RegisterWait', HandlerName.registerWait, 'Journey step: registers a wait-for-event with its task token'),
      resolveWait: fn('ResolveWait', HandlerName.resolveWait, 'Journey step: resolves a wait-until time in the profile time zone'),
      loadProfile: fn('LoadProfile', HandlerName.loadProfile, 'Journey step: reloads the profile before a condition'),
      getProfile: fn('GetProfile', HandlerName.getProfile, 'GET /profiles/{id}: a profile (merged ids answer with the survivor)'),
      findProfile: fn('FindProfile', HandlerName.findProfile, 'GET /profiles?identity=ns:value: a profile by any identity'),
      updateProfileAttributes: fn('UpdateProfileAttributes', HandlerName.updateProfileAttributes, 'PUT /profiles/{id}/attributes: attribute updates, with the segments they affect', {
        // SegmentEntered / SegmentExited go onto the bus.
        environment: { [EnvKey.eventBusName]: props.eventBus.eventBusName },
      }),
      eraseProfile: fn('EraseProfile', HandlerName.eraseProfile, 'DELETE /profiles/{id}: erases a profile everywhere and stops its journeys', {
        timeout: Duration.seconds(60),
      }),
      exportProfile: fn('ExportProfile', HandlerName.exportProfile, 'GET /profiles/{id}/export: everything held about a profile'),
      getConsent: fn('GetConsent', HandlerName.getConsent, 'GET /profiles/{id}/consent: consent per channel and list'),
      updateConsent: fn('UpdateConsent', HandlerName.updateConsent, 'PUT /profiles/{id}/consent: opt-in / opt-out per channel and list'),
      confirmUnsubscribe: fn('ConfirmUnsubscribe', HandlerName.confirmUnsubscribe, 'GET /unsubscribe (public): checks the signed link, asks to confirm', {
        environment: { [EnvKey.unsubscribeSecretArn]: this.unsubscribeSecret.secretArn },
      }),
      unsubscribeProfile: fn('UnsubscribeProfile', HandlerName.unsubscribeProfile, 'POST /unsubscribe (public, RFC 8058 one-click): opts the profile out', {
        environment: { [EnvKey.unsubscribeSecretArn]: this.unsubscribeSecret.secretArn },
      }),
      recordDeliveryEvent: fn('RecordDeliveryEvent', HandlerName.recordDeliveryEvent, 'SES bounces and complaints: suppression list', {
        deadLetterQueue: this.deliveryEventFunctionDeadLetterQueue,
        retryAttempts: 2,
        maxEventAge: Duration.hours(6),
      }),
      listSegments: fn('ListSegments', HandlerName.listSegments, 'GET /segments: every segment, from files and the API'),
      getSegment: fn('GetSegment', HandlerName.getSegment, 'GET /segments/{id}: a segment with its origin and version (ETag)'),
      createSegment: fn('CreateSegment', HandlerName.createSegment, 'POST /segments: creates a segment (references checked)'),
      putSegment: fn('PutSegment', HandlerName.putSegment, 'PUT /segments/{id}: replaces an API-created segment (If-Match version)'),
      deleteSegment: fn('DeleteSegment', HandlerName.deleteSegment, 'DELETE /segments/{id}: deletes an API-created segment no segment or journey uses'),
      evaluateSegment: fn('EvaluateSegment', HandlerName.evaluateSegment, 'POST /segments/{id}/evaluate: starts an audience snapshot (audience-scan state machine)'),
      getSegmentSnapshot: fn('GetSegmentSnapshot', HandlerName.getSegmentSnapshot, 'GET /segments/{id}/snapshots/{snapshotId}: a snapshot and a page of its members'),
      // A sample scan: up to API Gateway's 29 s integration timeout.
      estimateSegment: fn('EstimateSegment', HandlerName.estimateSegment, 'GET /segments/{id}/estimate: the segment size estimated from a sample of profiles', {
        timeout: Duration.seconds(29),
        memorySize: 1024,
      }),
      // One page (500 profiles) per invocation; a re-check page evaluates, announces and enters journeys per profile.
      scanProfiles: fn('ScanProfiles', HandlerName.scanProfiles, 'Audience-scan step: one page of a parallel scan (snapshot members, time-based re-check), finish, fail', {
        timeout: Duration.minutes(5),
        memorySize: 1024,
        // SegmentEntered / SegmentExited go onto the bus.
        environment: { [EnvKey.eventBusName]: props.eventBus.eventBusName },
      }),
      decide: fn('Decide', HandlerName.decide, 'POST /decisions: the best offers per placement for a profile, with an explanation'),
      listDecisions: fn('ListDecisions', HandlerName.listDecisions, "GET /profiles/{id}/decisions: a page of the profile's decisions, newest first"),
      listOffers: fn('ListOffers', HandlerName.listOffers, 'GET /offers: every offer, from files and the API'),
      getOffer: fn('GetOffer', HandlerName.getOffer, 'GET /offers/{id}: an offer with its origin and version (ETag)'),
      createOffer: fn('CreateOffer', HandlerName.createOffer, 'POST /offers: creates an offer (checked against the placements)'),
      putOffer: fn('PutOffer', HandlerName.putOffer, 'PUT /offers/{id}: replaces an API-created offer (If-Match version)'),
      deleteOffer: fn('DeleteOffer', HandlerName.deleteOffer, 'DELETE /offers/{id}: deletes an API-created offer'),
      listPlacements: fn('ListPlacements', HandlerName.listPlacements, 'GET /placements: every placement, from files and the API'),
      getPlacement: fn('GetPlacement', HandlerName.getPlacement, 'GET /placements/{id}: a placement with its origin and version (ETag)'),
      createPlacement: fn('CreatePlacement', HandlerName.createPlacement, 'POST /placements: creates a placement'),
      putPlacement: fn('PutPlacement', HandlerName.putPlacement, 'PUT /placements/{id}: replaces an API-created placement (If-Match version; offers must still fit)'),
      deletePlacement: fn('DeletePlacement', HandlerName.deletePlacement, 'DELETE /placements/{id}: deletes an API-created placement no offer or journey uses'),
      decideStep: fn('DecideStep', HandlerName.decideStep, 'Journey step: the decide node, the best offer for its placement'),
    };
    const f = this.functions;

    // --- Journeys: one Standard state machine each.
    this.registrationRole = new iam.Role(this, 'JourneyRegistrationRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Waymark: the AwsCustomResource provider that writes journey and segment registry items',
    });
    this.registrationLogGroup = new logs.LogGroup(this, 'JourneyRegistrationLogGroup', { retention: logRetention });
    this.registrationLogGroup.grantWrite(this.registrationRole);

    const deliveryMetricsNamespace = `Waymark/${props.stage}`;
    const catalogFileCount = segments.length + decisionFiles.offers.length + decisionFiles.placements.length + rules.length;
    const shardCount =
      props.registryShards ?? (journeys.length > INLINE_JOURNEY_LIMIT || catalogFileCount > INLINE_CATALOG_FILE_LIMIT ? REGISTRY_SHARDS : 0);
    const shards = new Map<number, RegistryShard>();
    // Where a journey or file with this id lives: this stack, or the nested stack of its shard (created on first use).
    const home = (key: string) => {
      if (shardCount === 0) {
        return { scope: this as Construct, registrationRole: this.registrationRole, registrationLogGroup: this.registrationLogGroup, journeyRole: () => undefined };
      }
      const n = shardOf(key, shardCount);
      let shard = shards.get(n);
      if (!shard) {
        shard = new RegistryShard(this, `Registry${n}`, { description: `Waymark ${props.stage}: journeys and catalog files of shard ${n}`, logRetention });
        shards.set(n, shard);
      }
      const within = shard;
      return { scope: within as Construct, registrationRole: within.registrationRole, registrationLogGroup: within.registrationLogGroup, journeyRole: () => within.journeyRole() };
    };
    this.registryShards = shards;
    const byId = new Map<string, JourneyStateMachine>();
    for (const journey of journeys) {
      const at = home(`journey/${journey.journey.id}`);
      byId.set(
        journey.journey.id,
        new JourneyStateMachine(at.scope, `Journey-${journey.journey.id}`, {
          journey,
          stateMachineName: `waymark-${props.stage}-${journey.journey.id}`,
          steps: {
            prepareSend: f.prepareSend.function,
            registerWait: f.registerWait.function,
            resolveWait: f.resolveWait.function,
            loadProfile: f.loadProfile.function,
            decide: f.decideStep.function,
          },
          runtimeTable: props.runtimeTable,
          journeysTable: props.journeysTable,
          senderEmail: props.senderEmail,
          emailConfigurationSet: this.emailConfigurationSet,
          pushApplicationId,
          metricsNamespace: deliveryMetricsNamespace,
          logRetention,
          registrationRole: at.registrationRole,
          registrationLogGroup: at.registrationLogGroup,
          role: at.journeyRole(),
        }),
      );
    }
    this.journeys = byId;

    // --- Segments, offers and placements: each file entry becomes an item of the journeys table (origin "file"), through
    // the journeys' provider. The default updatedAt is a constant, so the template is identical across synths.
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
    this.segments = new Map(segments.map((segment) => register('segment', segment, props.segmentsUpdatedAt ?? FILE_CATALOG_UPDATED_AT)));
    const decisionFilesUpdatedAt = props.decisionFilesUpdatedAt ?? FILE_CATALOG_UPDATED_AT;
    this.placements = new Map(decisionFiles.placements.map((p) => register('placement', p, decisionFilesUpdatedAt)));
    this.offers = new Map(decisionFiles.offers.map((o) => register('offer', o, decisionFilesUpdatedAt)));
    this.rules = new Map(rules.map((r) => register('rule', r, FILE_CATALOG_UPDATED_AT)));

    // --- Audience scan: snapshots (evaluate-segment starts them) and the hourly re-check of time-based segments.
    this.audienceScan = new AudienceScanStateMachine(this, 'AudienceScan', {
      stateMachineName: `waymark-${props.stage}-${AUDIENCE_SCAN_NAME}`,
      scanProfiles: f.scanProfiles.function,
      logRetention,
    });
    f.evaluateSegment.function.addEnvironment(EnvKey.audienceScanStateMachineArn, this.audienceScan.stateMachine.stateMachineArn);

    // --- Least-privilege grants, per handler.
    // The runtime table has one index (the profile index); grants name it instead of CDK's `index/*`.
    const runtimeReadActions = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem', 'dynamodb:DescribeTable'];
    const runtimeWriteActions = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];
    const grantRuntime = (access: 'read' | 'readWrite', fn: WaymarkFunction) => {
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: access === 'read' ? runtimeReadActions : [...runtimeReadActions, ...runtimeWriteActions],
          resources: [props.runtimeTable.tableArn, `${props.runtimeTable.tableArn}/index/${ProfileIndex.name}`],
        }),
      );
      if (access === 'read') props.runtimeTable.encryptionKey?.grantDecrypt(fn.role);
      else props.runtimeTable.encryptionKey?.grantEncryptDecrypt(fn.role);
    };
    props.profilesTable.grantReadWriteData(f.routeEvent);
    props.journeysTable.grantReadData(f.routeEvent);
    grantRuntime('readWrite', f.routeEvent);
    props.eventBus.grantPutEventsTo(f.ingestEvent);
    props.eventBus.grantPutEventsTo(f.routeEvent);
    props.profilesTable.grantReadWriteData(f.triggerJourney);
    props.journeysTable.grantReadData(f.triggerJourney);
    grantRuntime('readWrite', f.triggerJourney);
    props.journeysTable.grantReadData(f.listJourneys);
    grantRuntime('read', f.listRejectedEvents);
    props.profilesTable.grantReadData(f.prepareSend);
    grantRuntime('readWrite', f.prepareSend);
    grantRuntime('readWrite', f.registerWait);
    // register-wait reads the profile's recent events and resumes its own task when the awaited event came first.
    props.profilesTable.grantReadData(f.registerWait);
    props.profilesTable.grantReadData(f.resolveWait);
    props.profilesTable.grantReadData(f.loadProfile);
    props.profilesTable.grantReadData(f.getProfile);
    props.profilesTable.grantReadData(f.findProfile);
    props.profilesTable.grantReadWriteData(f.eraseProfile);
    grantRuntime('readWrite', f.eraseProfile);
    props.profilesTable.grantReadData(f.exportProfile);
    grantRuntime('read', f.exportProfile);
    props.profilesTable.grantReadData(f.getConsent);
    props.profilesTable.grantReadWriteData(f.updateConsent);
    props.profilesTable.grantReadWriteData(f.unsubscribeProfile);
    grantRuntime('readWrite', f.recordDeliveryEvent);
    // Segments live in the journeys table; delete-segment also reads the journey registry there.
    props.journeysTable.grantReadData(f.listSegments);
    props.journeysTable.grantReadData(f.getSegment);
    props.journeysTable.grantReadWriteData(f.createSegment);
    props.journeysTable.grantReadWriteData(f.putSegment);
    props.journeysTable.grantReadWriteData(f.deleteSegment);
    // evaluate-segment: reads the segment, writes the snapshot header (running; failed if the scan does not start).
    props.journeysTable.grantReadData(f.evaluateSegment);
    grantRuntime('readWrite', f.evaluateSegment);
    this.audienceScan.stateMachine.grantStartExecution(f.evaluateSegment.role);
    grantRuntime('read', f.getSegmentSnapshot);
    // estimate-segment: the segment, and a sample Scan of the profiles table (with memberships).
    props.journeysTable.grantReadData(f.estimateSegment);
    props.profilesTable.grantReadData(f.estimateSegment);
    // scan-profiles: Scan of the profiles table, memberships written there; snapshot members, enrollments and runs in
    // the runtime table; segments and journeys read; SegmentEntered/SegmentExited on the bus.
    // update-profile-attributes evaluates the segments an update affects, with the same needs (but no Scan).
    for (const evaluator of [f.scanProfiles, f.updateProfileAttributes]) {
      props.profilesTable.grantReadWriteData(evaluator);
      props.journeysTable.grantReadData(evaluator);
      grantRuntime('readWrite', evaluator);
      props.eventBus.grantPutEventsTo(evaluator);
    }
    // Decisioning: offers and placements live in the journeys table (the catalog; delete-placement also reads the
    // journey registry there); caps and the decision log in the runtime table.
    for (const decider of [f.decide, f.decideStep]) {
      props.profilesTable.grantReadData(decider);
      props.journeysTable.grantReadData(decider);
      grantRuntime('readWrite', decider);
    }
    grantRuntime('read', f.listDecisions);
    for (const reader of [f.listOffers, f.getOffer, f.listPlacements, f.getPlacement]) props.journeysTable.grantReadData(reader);
    for (const writer of [f.createOffer, f.putOffer, f.deleteOffer, f.createPlacement, f.putPlacement, f.deletePlacement]) props.journeysTable.grantReadWriteData(writer);
    for (const reader of [f.prepareSend, f.confirmUnsubscribe, f.unsubscribeProfile]) this.unsubscribeSecret.grantRead(reader.role);
    for (const reader of [f.routeEvent, f.triggerJourney, f.updateProfileAttributes, f.prepareSend, f.recordDeliveryEvent, f.eraseProfile]) {
      this.privacyKeySecret.grantRead(reader.role);
      reader.function.addEnvironment(EnvKey.privacyKeySecretArn, this.privacyKeySecret.secretArn);
    }
    for (const writer of [
      f.routeEvent,
      f.triggerJourney,
      f.prepareSend,
      f.registerWait,
      f.updateProfileAttributes,
      f.eraseProfile,
      f.updateConsent,
      f.unsubscribeProfile,
      f.recordDeliveryEvent,
      f.createSegment,
      f.putSegment,
      f.deleteSegment,
      f.evaluateSegment,
      f.scanProfiles,
      f.decide,
      f.decideStep,
      f.createOffer,
      f.putOffer,
      f.deleteOffer,
      f.createPlacement,
      f.putPlacement,
      f.deletePlacement,
    ]) {
      acknowledgeDataKeyWildcards(writer.role);
    }

    const machines = [...byId.values()];
    // Sharded, the grants name the stage's state machines by pattern (waymark-<stage>-*): a list of 200 ARNs would pass
    // IAM's 10,240 characters per role, and ARNs read from nested stacks would cost an output each.
    const stageMachineArn = this.formatArn({ service: 'states', resource: 'stateMachine', resourceName: `waymark-${props.stage}-*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const stageExecutionArn = this.formatArn({ service: 'states', resource: 'execution', resourceName: `waymark-${props.stage}-*:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const machineArns = (list: readonly JourneyStateMachine[]) => (shardCount === 0 ? list.map((m) => m.stateMachine.stateMachineArn) : [stageMachineArn]);
    const executionPatterns = (list: readonly JourneyStateMachine[]) => (shardCount === 0 ? list.map((m) => m.executionArnPattern) : [stageExecutionArn]);
    if (machines.length > 0) {
      const stateMachineArns = machineArns(machines);
      const executionArns = executionPatterns(machines);
      f.routeEvent.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: stateMachineArns }));
      f.routeEvent.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['states:DescribeExecution', 'states:StopExecution'], resources: executionArns }));
      f.triggerJourney.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: stateMachineArns }));
      f.triggerJourney.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['states:DescribeExecution'], resources: executionArns }));
      f.eraseProfile.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['states:DescribeExecution', 'states:StopExecution'], resources: executionArns }));
      for (const role of [f.routeEvent.role, f.triggerJourney.role, f.eraseProfile.role]) {
        acknowledgeWildcards(
          role,
          executionArns.map((arn) => resourceFinding(this, arn)),
          "Executions are named at run time (deterministically per profile), so DescribeExecution/StopExecution take the execution pattern of each of this stage's journey state machines (execution:waymark-<stage>-<journeyId>:*), nothing wider.",
        );
      }
    }
    // scan-profiles (the re-check) and update-profile-attributes act like the router on segment transitions, limited to
    // the journeys that use them: they start the journeys entered on a segment (DescribeExecution checks a previous run
    // against the re-entry policy) and stop runs of the journeys with a segment-exited exit criterion.
    const segmentEntry = machines.filter((m) => m.journey.journey.entry.kind === 'segment');
    const segmentExit = machines.filter((m) => m.journey.journey.exitCriteria?.some((c) => c.kind === 'segment-exited'));
    const segmentExecutionArns = executionPatterns([...new Set([...segmentEntry, ...segmentExit])]);
    for (const evaluator of [f.scanProfiles, f.updateProfileAttributes]) {
      if (segmentEntry.length > 0) {
        evaluator.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: machineArns(segmentEntry) }));
      }
      if (segmentExecutionArns.length > 0) {
        evaluator.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['states:DescribeExecution'], resources: segmentExecutionArns }));
        acknowledgeWildcards(
          evaluator.role,
          segmentExecutionArns.map((arn) => resourceFinding(this, arn)),
          "Executions are named at run time (deterministically per profile), so DescribeExecution/StopExecution take the execution pattern (execution:waymark-<stage>-<journeyId>:*) of only those journeys of this stage that enter on a segment or exit when a profile leaves one.",
        );
      }
      if (segmentExit.length > 0) {
        evaluator.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['states:StopExecution'], resources: executionPatterns(segmentExit) }));
      }
    }
    if (shardCount > 0) {
      for (const starter of [f.routeEvent, f.triggerJourney, ...(segmentEntry.length > 0 ? [f.scanProfiles, f.updateProfileAttributes] : [])]) {
        acknowledgeWildcards(
          starter.role,
          [resourceFinding(this, stageMachineArn)],
          `With the journeys in nested stacks (registryShards), StartExecution names this stage's state machines by pattern (stateMachine:waymark-${props.stage}-*): one ARN per journey would pass IAM's 10,240 characters per role with a few hundred journeys.`,
        );
      }
    }
    // Resuming a wait-for-event: SendTaskSuccess/SendTaskFailure have no resource type in the Service Authorization
    // Reference (the task token is the authorization), so they need Resource "*". A policy of its own, for a precise suppression.
    const taskResponse = new iam.Policy(this, 'RouteEventTaskResponsePolicy', {
      statements: [new iam.PolicyStatement({ actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'], resources: ['*'] })],
      roles: [f.routeEvent.role, f.registerWait.role],
    });
    acknowledgeWildcards(
      taskResponse,
      ['Resource::*'],
      'states:SendTaskSuccess and states:SendTaskFailure have no resource type in the Service Authorization Reference, so Resource must be "*"; the unguessable task token, held only by registered waits, is what scopes the call.',
    );

    // --- Routing: every business event (not the platform's own `waymark.*` events) goes to the router.
    this.routeEventRule = new events.Rule(this, 'RouteEventRule', {
      eventBus: props.eventBus,
      description: `Every event whose source does not start with "${PLATFORM_SOURCE_PREFIX}" goes to the route-event function`,
      eventPattern: { source: events.Match.anythingButPrefix(PLATFORM_SOURCE_PREFIX) },
    });
    this.routeEventRule.addTarget(
      new targets.LambdaFunction(f.routeEvent.function, {
        deadLetterQueue: this.routeEventRuleDeadLetterQueue,
        retryAttempts: 8,
        maxEventAge: Duration.hours(24),
      }),
    );

    // --- Bounces and complaints: SES publishes configuration-set events to the account's default bus only
    // (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-ses-configurationseteventdestination-eventbridgedestination.html),
    // so the rule matches this stage's configuration set, which every event names in mail.tags
    // (https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-examples.html): a stage never
    // suppresses an address because of another stage's (or another application's) mail.
    const defaultBus = events.EventBus.fromEventBusName(this, 'DefaultEventBus', 'default');
    this.emailConfigurationSet.addEventDestination('DeliveryEventsToEventBridge', {
      destination: ses.EventDestination.eventBus(defaultBus),
      events: [ses.EmailSendingEvent.BOUNCE, ses.EmailSendingEvent.COMPLAINT],
    });
    this.deliveryEventRule = new events.Rule(this, 'DeliveryEventRule', {
      eventBus: defaultBus,
      description: `SES bounces and complaints of the Waymark ${props.stage} configuration set go to record-delivery-event (suppression list)`,
      eventPattern: {
        ...(SES_DELIVERY_EVENT_PATTERN as events.EventPattern),
        detail: { mail: { tags: { 'ses:configuration-set': [this.emailConfigurationSet.configurationSetName] } } },
      },
    });
    this.deliveryEventRule.addTarget(
      new targets.LambdaFunction(f.recordDeliveryEvent.function, { deadLetterQueue: this.deliveryEventRuleDeadLetterQueue, retryAttempts: 8, maxEventAge: Duration.hours(24) }),
    );

    // --- Hourly re-check of time-based segments (schedules run on the default bus). The job id, the seed of the
    // SegmentEntered/SegmentExited event ids, comes from the scheduled event's id, so it is unique per run.
    this.audienceRecheckRule = new events.Rule(this, 'AudienceRecheckRule', {
      description: 'Hourly: re-checks the time-based segments of every profile (audience-scan state machine, recheck job)',
      schedule: events.Schedule.rate(Duration.hours(1)),
    });
    const recheck: AudienceScanInput = {
      job: { kind: 'recheck', jobId: `recheck-${events.EventField.eventId}` },
      totalSegments: RECHECK_SCAN_SEGMENTS,
      parts: Array.from({ length: RECHECK_SCAN_SEGMENTS }, (_, i) => i),
    };
    this.audienceRecheckRule.addTarget(
      new targets.SfnStateMachine(this.audienceScan.stateMachine, {
        input: events.RuleTargetInput.fromObject(recheck),
        deadLetterQueue: this.audienceRecheckRuleDeadLetterQueue,
        retryAttempts: 8,
        // The next run comes an hour later and re-checks everything anyway.
        maxEventAge: Duration.hours(1),
      }),
    );

    // --- Marketer REST API, IAM (SigV4) auth on every method.
    this.apiAccessLogGroup = new logs.LogGroup(this, 'ApiAccessLogGroup', { retention: logRetention });
    this.api = new apigw.RestApi(this, 'Api', {
      restApiName: `waymark-${props.stage}`,
      description: 'Waymark marketer API (SigV4 / IAM authorization)',
      endpointTypes: [apigw.EndpointType.REGIONAL],
      // Execution logging (APIG6) needs the account-level API Gateway CloudWatch role.
      cloudWatchRole: true,
      deployOptions: {
        stageName: API_STAGE_NAME,
        accessLogDestination: new apigw.LogGroupLogDestination(this.apiAccessLogGroup),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
        tracingEnabled: true,
        metricsEnabled: true,
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        // Request and response bodies carry PII.
        dataTraceEnabled: false,
        throttlingRateLimit: props.apiThrottlingRateLimit ?? 100,
        throttlingBurstLimit: props.apiThrottlingBurstLimit ?? 200,
        // The unauthenticated /unsubscribe methods get their own, lower method-level limit, so junk-token floods are
        // refused there (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html).
        methodOptions: Object.fromEntries(
          ['GET', 'POST'].map((verb) => [
            `/unsubscribe/${verb}`,
            {
              throttlingRateLimit: props.unsubscribeThrottlingRateLimit ?? 10,
              throttlingBurstLimit: props.unsubscribeThrottlingBurstLimit ?? 20,
              loggingLevel: apigw.MethodLoggingLevel.ERROR,
              dataTraceEnabled: false,
              metricsEnabled: true,
            },
          ]),
        ),
      },
      defaultMethodOptions: { authorizationType: apigw.AuthorizationType.IAM },
    });
    this.apiRequestValidator = this.api.addRequestValidator('RequestValidator', { validateRequestBody: true, validateRequestParameters: true });
    // API Gateway's own 4xx/5xx (validation, auth, throttling) answer in problem+json like the handlers do.
    for (const [gatewayId, type] of [
      ['Default4xx', apigw.ResponseType.DEFAULT_4XX],
      ['Default5xx', apigw.ResponseType.DEFAULT_5XX],
    ] as const) {
      this.api.addGatewayResponse(gatewayId, {
        type,
        responseHeaders: { 'Content-Type': "'application/problem+json'" },
        templates: {
          'application/json': '{"type":"about:blank","title":$context.error.messageString,"status":"$context.status","detail":"$context.error.validationErrorString"}',
        },
      });
    }
    const jsonObject = this.api.addModel('JsonObject', {
      contentType: 'application/json',
      description: 'Any JSON object; the handler validates the fields and names the offending ones',
      schema: { schema: apigw.JsonSchemaVersion.DRAFT4, type: apigw.JsonSchemaType.OBJECT },
    });
    const validated = { requestValidator: this.apiRequestValidator };
    const withBody = { ...validated, requestModels: { 'application/json': jsonObject } };
    const eventsResource = this.api.root.addResource('events');
    eventsResource.addMethod('POST', new apigw.LambdaIntegration(f.ingestEvent.function), withBody);
    eventsResource.addResource('rejected').addMethod('GET', new apigw.LambdaIntegration(f.listRejectedEvents.function), validated);
    const profiles = this.api.root.addResource('profiles');
    profiles.addMethod('GET', new apigw.LambdaIntegration(f.findProfile.function), { ...validated, requestParameters: { 'method.request.querystring.identity': true } });
    const profile = profiles.addResource('{id}');
    const withId = { 'method.request.path.id': true };
    profile.addMethod('GET', new apigw.LambdaIntegration(f.getProfile.function), { ...validated, requestParameters: withId });
    profile.addMethod('DELETE', new apigw.LambdaIntegration(f.eraseProfile.function), { ...validated, requestParameters: withId });
    profile.addResource('attributes').addMethod('PUT', new apigw.LambdaIntegration(f.updateProfileAttributes.function), { ...withBody, requestParameters: withId });
    profile.addResource('export').addMethod('GET', new apigw.LambdaIntegration(f.exportProfile.function), { ...validated, requestParameters: withId });
    const consent = profile.addResource('consent');
    consent.addMethod('GET', new apigw.LambdaIntegration(f.getConsent.function), { ...validated, requestParameters: withId });
    consent.addMethod('PUT', new apigw.LambdaIntegration(f.updateConsent.function), { ...withBody, requestParameters: withId });
    // The one public route: the link in an email must work without credentials; the HMAC-signed token is the authorization.
    const unsubscribe = this.api.root.addResource('unsubscribe');
    const publicMethod = { ...validated, authorizationType: apigw.AuthorizationType.NONE, requestParameters: { 'method.request.querystring.token': true } };
    this.unsubscribeMethods = [
      unsubscribe.addMethod('GET', new apigw.LambdaIntegration(f.confirmUnsubscribe.function), publicMethod),
      unsubscribe.addMethod('POST', new apigw.LambdaIntegration(f.unsubscribeProfile.function), publicMethod),
    ];
    const journeysResource = this.api.root.addResource('journeys');
    journeysResource.addMethod('GET', new apigw.LambdaIntegration(f.listJourneys.function), validated);
    journeysResource
      .addResource('{id}')
      .addResource('trigger')
      .addMethod('POST', new apigw.LambdaIntegration(f.triggerJourney.function), { ...withBody, requestParameters: { 'method.request.path.id': true } });
    const segmentsResource = this.api.root.addResource('segments');
    segmentsResource.addMethod('GET', new apigw.LambdaIntegration(f.listSegments.function), validated);
    segmentsResource.addMethod('POST', new apigw.LambdaIntegration(f.createSegment.function), withBody);
    const segment = segmentsResource.addResource('{id}');
    segment.addMethod('GET', new apigw.LambdaIntegration(f.getSegment.function), { ...validated, requestParameters: withId });
    segment.addMethod('PUT', new apigw.LambdaIntegration(f.putSegment.function), { ...withBody, requestParameters: withId });
    segment.addMethod('DELETE', new apigw.LambdaIntegration(f.deleteSegment.function), { ...validated, requestParameters: withId });
    // No body: the snapshot is of the segment as stored.
    segment.addResource('evaluate').addMethod('POST', new apigw.LambdaIntegration(f.evaluateSegment.function), { ...validated, requestParameters: withId });
    segment
      .addResource('snapshots')
      .addResource('{snapshotId}')
      .addMethod('GET', new apigw.LambdaIntegration(f.getSegmentSnapshot.function), { ...validated, requestParameters: { ...withId, 'method.request.path.snapshotId': true } });
    segment.addResource('estimate').addMethod('GET', new apigw.LambdaIntegration(f.estimateSegment.function), { ...validated, requestParameters: withId });
    // Decisioning: the offer catalog (offers, placements), decisions, and a profile's decision log.
    for (const [name, handlers] of [
      ['offers', { list: f.listOffers, create: f.createOffer, get: f.getOffer, put: f.putOffer, delete: f.deleteOffer }],
      ['placements', { list: f.listPlacements, create: f.createPlacement, get: f.getPlacement, put: f.putPlacement, delete: f.deletePlacement }],
    ] as const) {
      const resource = this.api.root.addResource(name);
      resource.addMethod('GET', new apigw.LambdaIntegration(handlers.list.function), validated);
      resource.addMethod('POST', new apigw.LambdaIntegration(handlers.create.function), withBody);
      const item = resource.addResource('{id}');
      item.addMethod('GET', new apigw.LambdaIntegration(handlers.get.function), { ...validated, requestParameters: withId });
      item.addMethod('PUT', new apigw.LambdaIntegration(handlers.put.function), { ...withBody, requestParameters: withId });
      item.addMethod('DELETE', new apigw.LambdaIntegration(handlers.delete.function), { ...validated, requestParameters: withId });
    }
    this.api.root.addResource('decisions').addMethod('POST', new apigw.LambdaIntegration(f.decide.function), withBody);
    profile.addResource('decisions').addMethod('GET', new apigw.LambdaIntegration(f.listDecisions.function), {
      ...validated,
      requestParameters: { ...withId, 'method.request.querystring.limit': false, 'method.request.querystring.cursor': false },
    });

    // --- Alarms, to an encrypted topic. CloudWatch can only publish to a topic encrypted with a key whose policy allows it.
    this.alarmTopicKey = new kms.Key(this, 'AlarmTopicKey', { description: `Waymark ${props.stage}: alarm topic encryption`, enableKeyRotation: true });
    this.alarmTopicKey.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey');
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', { displayName: `Waymark ${props.stage} alarms`, masterKey: this.alarmTopicKey, enforceSSL: true });
    if (props.alarmEmail) this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));

    const alarms: cloudwatch.Alarm[] = [];
    const alarm = (alarmId: string, metric: cloudwatch.IMetric, description: string, scope: Construct = this) => {
      const created = new cloudwatch.Alarm(scope, alarmId, {
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      created.addAlarmAction(new cwActions.SnsAction(this.alarmTopic));
      alarms.push(created);
    };
    for (const [queueId, queue, what] of [
      ['RouteEventRuleDeadLetterQueueAlarm', this.routeEventRuleDeadLetterQueue, 'events EventBridge could not deliver to route-event'],
      ['RouteEventFunctionDeadLetterQueueAlarm', this.routeEventFunctionDeadLetterQueue, 'events route-event failed on after its retries'],
      ['DeliveryEventRuleDeadLetterQueueAlarm', this.deliveryEventRuleDeadLetterQueue, 'SES events EventBridge could not deliver to record-delivery-event'],
      ['DeliveryEventFunctionDeadLetterQueueAlarm', this.deliveryEventFunctionDeadLetterQueue, 'SES events record-delivery-event failed on after its retries'],
      ['AudienceRecheckRuleDeadLetterQueueAlarm', this.audienceRecheckRuleDeadLetterQueue, 'hourly re-checks EventBridge could not start on the audience-scan state machine'],
    ] as const) {
      alarm(queueId, queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: cloudwatch.Stats.MAXIMUM }), `Dead-letter queue holds ${what}; inspect and redrive.`);
    }
    for (const machine of machines) {
      alarm(
        `Journey-${machine.journey.journey.id}-ExecutionsFailedAlarm`,
        machine.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
        `Executions of journey "${machine.journey.journey.id}" failed.`,
        // In the journey's own stack (this one, or its shard), so the alarms count against that stack's resources.
        Stack.of(machine),
      );
    }
    // A failed or timed-out audience scan leaves a snapshot failed (or running) or a re-check undone.
    alarm(
      'AudienceScanExecutionsFailedAlarm',
      this.audienceScan.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
      'Audience-scan executions (snapshots, time-based re-checks) failed.',
    );
    alarm(
      'AudienceScanExecutionsTimedOutAlarm',
      this.audienceScan.stateMachine.metricTimedOut({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
      'Audience-scan executions (snapshots, time-based re-checks) timed out.',
    );
    alarm('RouteEventErrorsAlarm', f.routeEvent.function.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }), 'route-event invocations failed (they are retried, then dead-lettered).');
    // Every journey counts the outcome of each message it asked a provider to send (metric Deliveries, by Outcome).
    const outcome = (name: 'sent' | 'failed' | 'unknown') =>
      new cloudwatch.Metric({ namespace: deliveryMetricsNamespace, metricName: DELIVERY_METRIC, dimensionsMap: { Outcome: name }, statistic: cloudwatch.Stats.SUM, period: Duration.minutes(15) });
    const deliveryFailureRate = new cloudwatch.Alarm(this, 'DeliveryFailureRateAlarm', {
      metric: new cloudwatch.MathExpression({
        // An idle period gives no datapoint (0/0), which is not breaching.
        expression: '100 * (FILL(failed, 0) + FILL(unknown, 0)) / (FILL(sent, 0) + FILL(failed, 0) + FILL(unknown, 0))',
        usingMetrics: { sent: outcome('sent'), failed: outcome('failed'), unknown: outcome('unknown') },
        label: 'failed or unknown deliveries (%)',
        period: Duration.minutes(15),
      }),
      threshold: 10,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: 'More than 10% of the messages sent to SES, SNS or Pinpoint in 15 minutes failed or have an unknown outcome; see the ledger (status failed/unknown) and the provider.',
    });
    deliveryFailureRate.addAlarmAction(new cwActions.SnsAction(this.alarmTopic));
    alarms.push(deliveryFailureRate);

    // --- What an operator looks at: one dashboard per stage, and SES reputation alarms (bounce 5%, complaint 0.1%).
    this.operations = new OperationsDashboard(this, 'Operations', {
      stage: props.stage,
      deliveryMetricsNamespace,
      emailConfigurationSet: this.emailConfigurationSet,
      deadLetterQueues: {
        'route-event rule': this.routeEventRuleDeadLetterQueue,
        'route-event function': this.routeEventFunctionDeadLetterQueue,
        'delivery-event rule': this.deliveryEventRuleDeadLetterQueue,
        'delivery-event function': this.deliveryEventFunctionDeadLetterQueue,
        'audience re-check rule': this.audienceRecheckRuleDeadLetterQueue,
      },
      alarmTopic: this.alarmTopic,
    });
    alarms.push(this.operations.bounceRateAlarm, this.operations.complaintRateAlarm);
    this.alarms = alarms;

    // prepare-send signs the unsubscribe links of marketing email, which point at this API.
    f.prepareSend.function.addEnvironment(EnvKey.unsubscribeSecretArn, this.unsubscribeSecret.secretArn);
    // Built from the API id, not `api.url`: that references the deployment, which depends on every method, one of
    // which (trigger) may start journeys whose steps include prepare-send — a cycle.
    f.prepareSend.function.addEnvironment(EnvKey.publicUrl, `https://${this.api.restApiId}.execute-api.${this.region}.${this.urlSuffix}/${API_STAGE_NAME}/`);

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Marketer REST API (SigV4, service execute-api)' });

    this.suppressNag();
  }

  private deadLetterQueue(id: string): sqs.Queue {
    // SSE-SQS rather than KMS: EventBridge can only deliver to a KMS-encrypted DLQ with a key policy granting it, and
    // SSE-SQS needs no key grants at all.
    return new sqs.Queue(this, id, { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14) });
  }

  private suppressNag(): void {
    acknowledge(
      this.api,
      'AwsSolutions-APIG3',
      'Every method requires IAM (SigV4) authorization and the stage is throttled; the callers are marketing tools and back ends holding AWS credentials, not the public. Attach a WAF web ACL to the stage where the deployment requires one.',
    );
    acknowledge(
      this.api,
      'AwsSolutions-COG4',
      'The API uses IAM (SigV4) authorization on every method (AuthorizationType AWS_IAM) instead of a Cognito user pool authorizer; callers are services with AWS credentials.',
    );
    acknowledge(
      this.api,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      'The account-level API Gateway CloudWatch role (needed for stage execution logging, APIG6) uses the AWS managed policy AWS documents for exactly this role; API Gateway names the execution log groups itself.',
    );
    for (const method of this.unsubscribeMethods) {
      acknowledge(
        method,
        'AwsSolutions-APIG4',
        'The one-click unsubscribe link in marketing email (RFC 8058) must work without credentials; the HMAC-signed, expiring token in the query string is the authorization, and a tampered or expired token changes nothing.',
      );
      acknowledge(method, 'AwsSolutions-COG4', 'Public by design (email unsubscribe link); no user pool applies. The signed token authorizes the request.');
    }
    for (const queue of [
      this.routeEventRuleDeadLetterQueue,
      this.routeEventFunctionDeadLetterQueue,
      this.deliveryEventRuleDeadLetterQueue,
      this.deliveryEventFunctionDeadLetterQueue,
      this.audienceRecheckRuleDeadLetterQueue,
    ]) {
      acknowledge(
        queue,
        'AwsSolutions-SQS3',
        'This queue is itself a dead-letter queue (of an EventBridge target or of Lambda asynchronous invocations), which cdk-nag only recognises for SQS redrive; an alarm fires on its first visible message.',
      );
    }
  }
}
