import { ArnFormat, CfnOutput, CrossStackReferences, ReferenceStrength, Stack, type CfnElement, type StackProps } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as smsvoice from 'aws-cdk-lib/aws-smsvoice';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { CompiledJourney } from '../lambdas/core/journey';
import { unknownReferences } from '../lambdas/core/journey/references';
import type { SegmentDefinition } from '../lambdas/core/segments/rule';
import { NO_PUSH_APPLICATION, NO_SMS_ORIGINATION, requirePushApplication, requireSmsOrigination } from './config';
import type { AudienceScanStateMachine } from './constructs/audience-scan-state-machine';
import { FILE_CATALOG_UPDATED_AT, type CatalogRegistration } from './constructs/catalog-registration';
import type { JourneyStateMachine } from './constructs/journey-state-machine';
import { metricsNamespaceOf, OperationsDashboard } from './constructs/operations-dashboard';
import type { RegistryShard } from './constructs/registry-shard';
import { WaymarkFunction } from './constructs/waymark-function';
import { loadDecisionFiles, type DecisionFiles } from './decisions';
import { entryPoints, type EntryPointName } from './entry-points';
import { addApiRoute, splitRoute } from './features/api-routes';
import { CampaignsFeature } from './features/campaigns';
import { importBucket, type ExportedBucket } from './data-stack';
import { campaignCatalogOf, loadCampaigns, type DeployedCampaign } from './campaigns';
import { campaignStateMachineName } from './constructs/campaign-state-machine';
import { FunctionRoles } from './constructs/function-roles';
import { ConsentFeature } from './features/consent';
import { EventsFeature } from './features/events';
import { Feature, journeyStepsOf, logicalIdWithoutFeatures } from './features/feature';
import { JourneysFeature } from './features/journeys';
import { AUDIENCE_SCAN_NAME, RECHECK_SCAN_SEGMENTS, SegmentsFeature } from './features/segments';
import { Monitoring } from './features/monitoring';
import type { CampaignsMonitoringStack } from './constructs/campaigns-monitoring';
import { bindEntryPoint, taskResponsePolicy } from './features/wiring';
import { loadJourneys } from './journeys';
import { acknowledge } from './nag';
import { loadSegments } from './segments';
import { loadRules } from './rules';
import type { Rule } from '../lambdas/core/governance/rules';
import { isTimeZone } from '../lambdas/core/governance/local-time';

export { AUDIENCE_SCAN_NAME, RECHECK_SCAN_SEGMENTS };

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
  /** Campaign audiences and Distributed Map results (data stack, retained, lifecycle-expired), by its exports. */
  readonly audienceBucket: ExportedBucket;
  /**
   * The validated, compiled campaigns, one state machine each (in the `Campaigns` nested stack).
   * @default loadCampaigns() - every `campaigns/*.json`
   */
  readonly campaigns?: readonly DeployedCampaign[];
  /** The verified SES identity journeys send email from. */
  readonly senderEmail: string;
  /**
   * The End User Messaging (Pinpoint) application push messages go through.
   * @default NO_PUSH_APPLICATION ('none': push sends fail, and the permission stays scoped to that one app ARN)
   */
  readonly pushApplicationId?: string;
  /**
   * The End User Messaging SMS origination identity journey SMS are sent from (lib/config.ts).
   * @default NO_SMS_ORIGINATION ('none': SMS sends are refused)
   */
  readonly smsOriginationIdentity?: string;
  /**
   * Email address subscribed to the alarm topic.
   * @default - no subscription (subscribe to `alarmTopic` yourself)
   */
  readonly alarmEmail?: string;
  /**
   * The IANA time zone of profiles without one (quiet hours, calendar caps), given to prepare-send.
   * @default 'UTC'
   */
  readonly defaultTimezone?: string;
  /** The share of profiles (0–100) that never receives campaigns (stage `campaignControlGroupPercent`). @default none */
  readonly campaignControlGroupPercent?: number;
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
   * One execution role per set of identical grants (functions whose `uses` imply the same grants share it); `false`
   * gives every function a role of its own (test/infra compares the two, function by function).
   * @default true
   */
  readonly shareFunctionRoles?: boolean;
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
  /**
   * Bundle the Powertools tracer and the X-Ray SDK into every function (stage `traceAwsCalls`, lib/config.ts): each AWS
   * SDK call then shows as an X-Ray subsegment. Lambda's active tracing records every invocation either way.
   * @default false
   */
  readonly traceAwsCalls?: boolean;
}

/** The REST API's stage (the path prefix of every route). */
export const API_STAGE_NAME = 'v1';

/** The Lambda functions of the platform, one per declared entry point (lib/entry-points.ts), by name. */
export type WaymarkFunctions = { readonly [K in EntryPointName]: WaymarkFunction };

/**
 * The stateless half of Waymark, composed of one construct per feature (lib/features/: events, profiles, consent,
 * segments, decisioning, journeys), each creating the functions of its declared entry points (lib/entry-points.ts) and
 * its own triggers; the stack adds the REST API (IAM auth) and derives every function's environment, grants and API
 * method from the declarations; then alarms on every dead-letter queue, failed executions and router errors.
 */
export class WaymarkAppStack extends Stack {
  public readonly functions: WaymarkFunctions;
  /** The feature constructs, by construct id (transparent to logical ids: see `allocateLogicalId`). */
  public readonly features: ReadonlyMap<string, Feature>;
  /** Journey state machines by journey id; construct ids are `Journey-<id>`. */
  public readonly journeys: ReadonlyMap<string, JourneyStateMachine>;
  /** The SES v2 configuration set every journey email goes through. */
  public readonly emailConfigurationSet: ses.ConfigurationSet;
  /** The stage's End User Messaging SMS configuration set (`waymark-<stage>`). */
  public readonly smsConfigurationSet: smsvoice.CfnConfigurationSet;
  /** Events EventBridge could not deliver to the router (after its retries). */
  public readonly routeEventRuleDeadLetterQueue: sqs.Queue;
  /** Router invocations that failed after Lambda's asynchronous retries. */
  public readonly routeEventFunctionDeadLetterQueue: sqs.Queue;
  /** Sends every business event (any source not starting with `waymark.`) to the router. */
  public readonly routeEventRule: events.Rule;
  public readonly api: apigw.RestApi;
  public readonly apiAccessLogGroup: logs.LogGroup;
  public readonly apiRequestValidator: apigw.RequestValidator;
  /** The role API Gateway assumes to invoke the functions of the API's routes (lambda:InvokeFunction on each). */
  public readonly apiInvokeRole: iam.Role;
  /** Role and log group of the AwsCustomResource provider that registers journeys. */
  public readonly registrationRole: iam.Role;
  public readonly registrationLogGroup: logs.LogGroup;
  /** Encrypts the alarm topic; its policy lets CloudWatch publish. */
  public readonly alarmTopicKey: kms.Key;
  public readonly alarmTopic: sns.Topic;
  public readonly alarms: readonly cloudwatch.Alarm[];
  /** The stage's CloudWatch dashboard (`waymark-<stage>`) and its SES reputation alarms. */
  public readonly operations: OperationsDashboard;
  /** Per-campaign alarms and the `waymark-<stage>-campaigns` dashboard (nested stack); absent without campaigns. */
  public readonly campaignsMonitoring?: CampaignsMonitoringStack;
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
  /** Step Functions' run-end events EventBridge could not deliver to count-run-end. */
  public readonly runStatusRuleDeadLetterQueue: sqs.Queue;
  /** File offers by id, each written to the journeys table at deploy time; construct ids are `Offer-<id>`. */
  public readonly offers: ReadonlyMap<string, CatalogRegistration>;
  /** File placements by id, likewise; construct ids are `Placement-<id>`. */
  public readonly placements: ReadonlyMap<string, CatalogRegistration>;
  /** File governance rules by id, likewise; construct ids are `Rule-<id>`. */
  public readonly rules: ReadonlyMap<string, CatalogRegistration>;
  /** The nested stacks journeys and files are spread over (`Registry<n>`), by shard number; empty when all are inline. */
  public readonly registryShards: ReadonlyMap<number, RegistryShard>;
  /** Campaign functions, and the `Campaigns` nested stack (state machines, schedules, registry items) when any file exists. */
  public readonly campaigns: CampaignsFeature;
  /** Logical id → the path of the element holding it (`allocateLogicalId`). */
  private readonly allocatedIds = new Map<string, string>();

  constructor(scope: Construct, id: string, props: WaymarkAppStackProps) {
    // Unindented JSON: the template holds every inline journey's ASL (and its definition again in the registry item),
    // and CloudFormation takes at most 1 MB per template (lib/README.md, resource budget).
    super(scope, id, { suppressTemplateIndentation: true, ...props });
    // Before any child: every function of the stack (and of its nested stacks) is bundled with the stage's choice.
    WaymarkFunction.traceAwsCallsBelow(this, props.traceAwsCalls ?? false);
    // Strong (Export/ImportValue): CloudFormation then refuses to delete or replace a table or the bus this stack uses.
    CrossStackReferences.of(this).consume(ReferenceStrength.STRONG);
    const logRetention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    const pushApplicationId = props.pushApplicationId ?? NO_PUSH_APPLICATION;
    const journeys = props.journeys ?? loadJourneys();
    const segments = props.segments ?? loadSegments();
    requirePushApplication({ stage: props.stage, pushApplicationId }, journeys);
    const smsOriginationIdentity = props.smsOriginationIdentity ?? NO_SMS_ORIGINATION;
    requireSmsOrigination({ stage: props.stage, smsOriginationIdentity }, journeys);
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
    // The stage's End User Messaging SMS configuration set, named like the SES one: every journey SMS names it, in the
    // request and in its context, which the stage's SMS status rule matches (AWS::SMSVOICE::ConfigurationSet:
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-smsvoice-configurationset.html).
    // No event destination: the service puts status events on the default bus by itself.
    this.smsConfigurationSet = new smsvoice.CfnConfigurationSet(this, 'SmsConfigurationSet', { configurationSetName: `waymark-${props.stage}` });
    // The HMAC key of one-click unsubscribe links (read by prepare-send to sign, by the unsubscribe functions to verify)
    // and the privacy key live in the data stack, so replacing this stack keeps both.
    this.unsubscribeSecret = props.unsubscribeSecret;
    this.privacyKeySecret = props.privacyKeySecret;
    const deliveryMetricsNamespace = metricsNamespaceOf(props.stage);

    // --- Features: each creates the functions of the entry points declared with it, and its own triggers.
    // Their roles: one per set of identical grants (the resource budget, lib/README.md).
    new FunctionRoles(this, FunctionRoles.ID, { shared: props.shareFunctionRoles ?? true });
    const eventsFeature = new EventsFeature(this, 'Events', { eventBus: props.eventBus, logRetention });
    const profilesFeature = Feature.of(this, 'Profiles', { feature: 'profiles', logRetention });
    const consentFeature = new ConsentFeature(this, 'Consent', {
      stage: props.stage,
      emailConfigurationSet: this.emailConfigurationSet,
      smsConfigurationSetName: `waymark-${props.stage}`,
      logRetention,
    });
    const segmentsFeature = new SegmentsFeature(this, 'Segments', { stage: props.stage, logRetention });
    const decisioningFeature = Feature.of(this, 'Decisioning', { feature: 'decisioning', logRetention });
    const governanceFeature = Feature.of(this, 'Governance', { feature: 'governance', logRetention });
    const before = [eventsFeature, profilesFeature, consentFeature, segmentsFeature, decisioningFeature];
    const journeysFeature = new JourneysFeature(this, 'Journeys', {
      stage: props.stage,
      journeysTable: props.journeysTable,
      runtimeTable: props.runtimeTable,
      journeys,
      segments,
      segmentsUpdatedAt: props.segmentsUpdatedAt ?? FILE_CATALOG_UPDATED_AT,
      decisionFiles,
      rules,
      decisionFilesUpdatedAt: props.decisionFilesUpdatedAt ?? FILE_CATALOG_UPDATED_AT,
      steps: journeyStepsOf(new Map(before.flatMap((f) => [...f.functions]))),
      senderEmail: props.senderEmail,
      emailConfigurationSet: this.emailConfigurationSet,
      pushApplicationId,
      smsConfigurationSetName: `waymark-${props.stage}`,
      smsOriginationIdentity,
      metricsNamespace: deliveryMetricsNamespace,
      logRetention,
      registryShards: props.registryShards,
    });
    // Named exports (not CDK's generated ones), so the grants' `<bucket ARN>/runs/*` read the same here and in the
    // campaigns' stack; the dependency is explicit, as Fn::ImportValue of a name implies none.
    this.addStackDependency(props.audienceBucket.exportingStack);
    const audienceBucket = importBucket(this, 'AudienceBucket', props.audienceBucket);
    const campaignsFeature = new CampaignsFeature(this, 'Campaigns', {
      stage: props.stage,
      campaigns: props.campaigns ?? loadCampaigns(undefined, undefined, campaignCatalogOf({ journeys, segments, placements: decisionFiles.placements })),
      audienceBucket: props.audienceBucket,
      journeysTable: props.journeysTable,
      logRetention,
    });
    this.campaigns = campaignsFeature;
    const features = [...before, journeysFeature, governanceFeature, campaignsFeature];
    this.features = new Map(features.map((f) => [f.node.id, f]));
    const functions = new Map(features.flatMap((f) => [...f.functions]));
    const undeclared = entryPoints().filter(([name]) => !functions.has(name));
    if (undeclared.length > 0) throw new Error(`entry points without a feature construct: ${undeclared.map(([n]) => n).join(', ')}`);
    this.functions = Object.fromEntries(functions) as WaymarkFunctions;

    this.routeEventRuleDeadLetterQueue = eventsFeature.routeEventRuleDeadLetterQueue;
    this.routeEventFunctionDeadLetterQueue = eventsFeature.routeEventFunctionDeadLetterQueue;
    this.routeEventRule = eventsFeature.routeEventRule;
    this.deliveryEventRule = consentFeature.deliveryEventRule;
    this.deliveryEventRuleDeadLetterQueue = consentFeature.deliveryEventRuleDeadLetterQueue;
    this.deliveryEventFunctionDeadLetterQueue = consentFeature.deliveryEventFunctionDeadLetterQueue;
    this.audienceScan = segmentsFeature.audienceScan;
    this.audienceRecheckRule = segmentsFeature.audienceRecheckRule;
    this.audienceRecheckRuleDeadLetterQueue = segmentsFeature.audienceRecheckRuleDeadLetterQueue;
    this.runStatusRuleDeadLetterQueue = journeysFeature.runStatusRuleDeadLetterQueue;
    this.journeys = journeysFeature.journeys;
    this.registrationRole = journeysFeature.registrationRole;
    this.registrationLogGroup = journeysFeature.registrationLogGroup;
    this.registryShards = journeysFeature.registryShards;
    this.segments = journeysFeature.segments;
    this.offers = journeysFeature.offers;
    this.placements = journeysFeature.placements;
    this.rules = journeysFeature.rules;
    const f = this.functions;
    const machines = [...this.journeys.values()];
    const apiEntryPoints = entryPoints().flatMap(([name, e]) => (e.trigger.kind === 'api' ? [{ name, entry: e, trigger: e.trigger }] : []));

    // --- Marketer REST API, IAM (SigV4) auth on every method but the declared public ones.
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
        // The unauthenticated methods (/unsubscribe) get their own, lower method-level limit, so junk-token floods are
        // refused there (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html).
        methodOptions: Object.fromEntries(
          apiEntryPoints
            .filter(({ trigger }) => trigger.public)
            .map(({ trigger }) => {
              const [verb, path] = splitRoute(trigger.route);
              return [
                `${path}/${verb}`,
                {
                  throttlingRateLimit: props.unsubscribeThrottlingRateLimit ?? 10,
                  throttlingBurstLimit: props.unsubscribeThrottlingBurstLimit ?? 20,
                  loggingLevel: apigw.MethodLoggingLevel.ERROR,
                  dataTraceEnabled: false,
                  metricsEnabled: true,
                },
              ];
            }),
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
    // API Gateway invokes the API's functions with this role (one policy for every route), not a Lambda permission per
    // method: the stack's resource budget (lib/README.md).
    this.apiInvokeRole = new iam.Role(this, 'ApiInvokeRole', {
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      description: `Waymark ${props.stage}: API Gateway invokes the functions of the API's routes`,
    });
    // In declaration order: the deployment's logical id hashes the methods in the order they are added.
    const methods = apiEntryPoints.map(({ name, entry }) => ({
      entry,
      method: addApiRoute(this.api, entry, f[name].function, { requestValidator: this.apiRequestValidator, jsonObject, invokeRole: this.apiInvokeRole }),
    }));
    // The functions themselves, without `:*` (versions and aliases): the integrations name the unqualified ARN.
    this.apiInvokeRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: apiEntryPoints.map(({ name }) => f[name].function.functionArn) }),
    );
    this.unsubscribeMethods = methods.filter(({ entry }) => entry.trigger.kind === 'api' && entry.trigger.public).map(({ method }) => method);

    // --- Environment and least-privilege grants, each derived from the function's declaration.
    const resources = {
      tables: { profiles: props.profilesTable, journeys: props.journeysTable, runtime: props.runtimeTable },
      eventBus: props.eventBus,
      secrets: { unsubscribe: this.unsubscribeSecret, privacyKey: this.privacyKeySecret },
      audienceScan: this.audienceScan.stateMachine,
      // Built from the API id, not `api.url`: that references the deployment, which depends on every method, one of
      // which (trigger) may start journeys whose steps include prepare-send — a cycle.
      publicUrl: `https://${this.api.restApiId}.execute-api.${this.region}.${this.urlSuffix}/${API_STAGE_NAME}/`,
      stage: props.stage,
      defaultTimeZone: validTimeZone(props.defaultTimezone ?? 'UTC'),
      journeys: machines,
      sharded: journeysFeature.sharded,
      audienceBucket,
      senderEmail: props.senderEmail,
      emailConfigurationSet: this.emailConfigurationSet.configurationSetName,
      pushApplicationId,
      campaignControlGroupPercent: props.campaignControlGroupPercent,
      smsOriginationIdentity,
      smsConfigurationSet: `waymark-${props.stage}`,
      campaignStateMachinePrefix: this.formatArn({ service: 'states', resource: 'stateMachine', resourceName: campaignStateMachineName(props.stage, ''), arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
    };
    for (const [name, entry] of entryPoints()) bindEntryPoint(f[name], entry, resources);
    taskResponsePolicy(
      this,
      entryPoints()
        .filter(([, e]) => e.uses.taskTokens)
        .map(([name]) => f[name].role),
    );

    // --- What tells an operator something is wrong: alarms to an encrypted topic, the stage's dashboard.
    const monitoring = new Monitoring(this, 'Monitoring', {
      stage: props.stage,
      alarmEmail: props.alarmEmail,
      deliveryMetricsNamespace,
      emailConfigurationSet: this.emailConfigurationSet,
      deadLetterQueues: [
        { alarmId: 'RouteEventRuleDeadLetterQueueAlarm', label: 'route-event rule', queue: this.routeEventRuleDeadLetterQueue, holds: 'events EventBridge could not deliver to route-event' },
        { alarmId: 'RouteEventFunctionDeadLetterQueueAlarm', label: 'route-event function', queue: this.routeEventFunctionDeadLetterQueue, holds: 'events route-event failed on after its retries' },
        { alarmId: 'DeliveryEventRuleDeadLetterQueueAlarm', label: 'delivery-event rule', queue: this.deliveryEventRuleDeadLetterQueue, holds: 'SES and SMS events EventBridge could not deliver to record-delivery-event' },
        { alarmId: 'DeliveryEventFunctionDeadLetterQueueAlarm', label: 'delivery-event function', queue: this.deliveryEventFunctionDeadLetterQueue, holds: 'SES events record-delivery-event failed on after its retries' },
        { alarmId: 'AudienceRecheckRuleDeadLetterQueueAlarm', label: 'audience re-check rule', queue: this.audienceRecheckRuleDeadLetterQueue, holds: 'hourly re-checks EventBridge could not start on the audience-scan state machine' },
        { alarmId: 'RunStatusRuleDeadLetterQueueAlarm', label: 'run-status rule', queue: this.runStatusRuleDeadLetterQueue, holds: "journey runs' end events EventBridge could not deliver to count-run-end (exits not counted)" },
        ...(campaignsFeature.campaignsStack
          ? [{ alarmId: 'CampaignScheduleDeadLetterQueueAlarm', label: 'campaign schedules', queue: campaignsFeature.campaignsStack.scheduleDeadLetterQueue, holds: 'scheduled campaign runs EventBridge Scheduler could not start' }]
          : []),
      ],
      journeys: machines,
      audienceScan: this.audienceScan.stateMachine,
      routeEvent: f.routeEvent.function,
      campaigns: campaignsFeature.deployed,
    });
    this.alarmTopicKey = monitoring.alarmTopicKey;
    this.alarmTopic = monitoring.alarmTopic;
    this.alarms = monitoring.alarms;
    this.operations = monitoring.operations;
    this.campaignsMonitoring = monitoring.campaigns;

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Marketer REST API (SigV4, service execute-api)' });

    this.suppressNag();
  }

  /**
   * Feature constructs are transparent to logical ids (`logicalIdWithoutFeatures`): what a feature holds keeps the id
   * it had as the stack's own child. Overriding this method is CDK's documented way to change the scheme; two elements
   * given one id fail the synth here rather than overwrite each other.
   */
  protected allocateLogicalId(element: CfnElement): string {
    const id = logicalIdWithoutFeatures(element);
    const holder = this.allocatedIds.get(id);
    if (holder !== undefined && holder !== element.node.path) {
      throw new Error(`logical id ${id} of ${element.node.path} is already ${holder}'s: rename one of them (features share the stack's ids)`);
    }
    this.allocatedIds.set(id, element.node.path);
    return id;
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
      this.runStatusRuleDeadLetterQueue,
    ]) {
      acknowledge(
        queue,
        'AwsSolutions-SQS3',
        'This queue is itself a dead-letter queue (of an EventBridge target or of Lambda asynchronous invocations), which cdk-nag only recognises for SQS redrive; an alarm fires on its first visible message.',
      );
    }
  }
}

/** The stage's default zone, checked at synth: a name prepare-send would refuse at cold start fails every send. */
function validTimeZone(zone: string): string {
  if (isTimeZone(zone)) return zone;
  throw new Error(`defaultTimezone must be an IANA time zone name, e.g. "Europe/Berlin" (got ${JSON.stringify(zone)})`);
}
