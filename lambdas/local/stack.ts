import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createUnsubscribeLinks } from '../core/consent/links';
import { SES_DELIVERY_EVENT_PATTERN } from '../core/consent/ses-events';
import { SMS_CONTEXT, SMS_STATUS_EVENT_PATTERN } from '../core/engagement/sms-events';
import { ROUTER_EVENT_PATTERN } from '../core/events/pattern';
import { compileCatalog, type CompiledJourney } from '../core/journey/catalog';
import { Placeholder, type AslDefinition } from '../core/journey/asl';
import { EnvKey } from '../core/config/env-keys';
import { systemClock, type Clock } from '../core/runtime/ports';
import { DynamoConsentStore } from '../adapters/dynamodb-consent';
import { dynamoPorts } from '../adapters/dynamodb-ports';
import { DynamoSuppressionList } from '../adapters/dynamodb-suppression';
import { createConfirmUnsubscribeHandler, createGetConsentHandler, createUnsubscribeProfileHandler, createUpdateConsentHandler } from '../app/consent';
import { createIngestEventHandler } from '../app/ingest-event';
import { createGetJourneyHandler } from '../app/get-journey';
import { createListJourneysHandler } from '../app/list-journeys';
import { createListRejectedEventsHandler } from '../app/list-rejected-events';
import {
  createEraseProfileHandler,
  createExportProfileHandler,
  createFindProfileHandler,
  createGetProfileHandler,
  createUpdateProfileAttributesHandler,
} from '../app/profiles';
import { createRecordDeliveryEventHandler } from '../app/record-delivery-event';
import { createDecideStepHandler, createLoadProfileHandler, createPrepareSendHandler, createRegisterWaitHandler, createResolveWaitHandler } from '../app/journey-steps';
import {
  createCreateOfferHandler,
  createCreatePlacementHandler,
  createDecideHandler,
  createDeleteOfferHandler,
  createDeletePlacementHandler,
  createGetOfferHandler,
  createGetPlacementHandler,
  createListDecisionsHandler,
  createListOffersHandler,
  createListPlacementsHandler,
  createPutOfferHandler,
  createPutPlacementHandler,
} from '../app/decisions';
import { cachedDecisionCatalog } from '../core/decisions/catalog';
import { unknownReferences } from '../core/journey/references';
import { compileCatalogFiles } from '../core/decisions/files';
import type { Offer, Placement } from '../core/decisions/model';
import { createRouteEventHandler } from '../app/route-event';
import { createDeleteRuleHandler, createGetRuleHandler, createListRulesHandler, createPutRuleHandler } from '../app/rules';
import { compileRuleFiles } from '../core/governance/files';
import { createTriggerJourneyHandler } from '../app/trigger-journey';
import { createExplainProfileJourneyHandler, createListProfileJourneysHandler } from '../app/why';
import {
  createCreateSegmentHandler,
  createDeleteSegmentHandler,
  createEstimateSegmentHandler,
  createEvaluateSegmentHandler,
  createGetSegmentHandler,
  createGetSnapshotHandler,
  createListSegmentsHandler,
  createPutSegmentHandler,
  createScanProfilesHandler,
} from '../app/segments';
import { cachedSegmentCatalog } from '../core/segments/cached-catalog';
import { compileSegmentFiles } from '../core/segments/files';
import type { SegmentDefinition } from '../core/segments/rule';
import type { AudienceJobs, SegmentStore } from '../core/segments/ports';
import { audienceScanDefinition } from '../core/segments/scan-asl';
import { json, parseJsonBody, problem } from '../shared/http';
import { apiHandler } from '../app/middleware';
import { checkEngagementRequest, engagementEventEntry } from './engagement-events';
import { LocalBus } from './bus';
import { startDynalite } from './dynalite';
import { LOCAL_AUDIENCE_BUCKET, startS3rver } from './s3';
import { S3AudienceFiles } from '../adapters/s3-audience-files';
import { EXECUTION_STATUSES, LocalExecutions, type ExecutionStatus, type LocalFunction } from './executions';
import { LocalMetrics, Outbox } from './outbox';
import { dynamoSuppressedSource, listSuppressed, memorySuppressedSource } from './suppressed';
import { DEFAULT_MAX_BUSY_SHARE, recheckDecision, type RecheckRun } from './recheck';
import { createLocalServer, createRouter, type LocalRequest, type Route } from './server';
import { isVirtualClock } from './virtual-clock';
import { enrollmentRuns } from '../core/governance/runs';
import { isTimeZone } from '../core/governance/local-time';
import { Rule, type RuleInput } from '../core/governance/rules';
import type { JourneyCounters } from '../core/measure/counters';
import { DynamoJourneyCounters } from '../adapters/dynamodb-counters';
import { createGetJourneyReportHandler } from '../app/journey-report';
import { memoryJourneyCounters, memoryOnceMarks, memoryTables } from './memory-ports';
import { DynamoOnceMarks } from '../adapters/dynamodb-counters';
import { createCountRunEndHandler } from '../app/count-run-end';
import { memoryConsentStore, memoryPorts, memorySuppressionList, memoryUpdateItem, type WaymarkPorts } from './memory-ports';
import type { Campaign } from '../core/campaigns/schema';
import { createCampaignStepHandler } from '../app/campaign-step';
import { campaignStepActions } from '../app/campaign-step-actions';
import { deployLocalCampaigns, loadCampaignDir, localCampaignRoutes, localCampaignStores, noAudienceBucket } from './campaigns';
import { localCampaignSender } from './campaign-sender';
import { cachedCampaignGoals } from '../core/campaigns/conversions';

export interface LocalStackOptions {
  /** HTTP port; 0 picks a free one. Default: `PORT` or 3000. */
  port?: number;
  /** False: no HTTP server (simulation); the routes answer through `request` in process. Default: true. */
  listen?: boolean;
  /**
   * Where the stores live: `dynalite` (DynamoDB's protocol, through the AWS SDK, as on AWS) or `memory` (memory-ports.ts:
   * the same items, keys and conditions in process; what simulation uses). Default: dynalite.
   */
  storage?: 'dynalite' | 'memory';
  /** Folder of journey files. Default: `statemachines/` of the repository. */
  journeysDir?: string;
  /** Or the journeys themselves (tests). */
  journeys?: CompiledJourney[];
  /** Folder of segment files. Default: `segments/` of the repository. */
  segmentsDir?: string;
  /** Or the segments themselves (tests). */
  segments?: SegmentDefinition[];
  /** Folders of offer and placement files. Default: `offers/` and `placements/` of the repository. */
  offersDir?: string;
  placementsDir?: string;
  /** Or the catalog itself (tests). */
  catalog?: { offers: Offer[]; placements: Placement[] };
  /** Folder of governance rule files. Default: `rules/` of the repository. */
  rulesDir?: string;
  /**
   * Or the rules themselves (tests; `[]`: no file rules). Either way they are loaded into the rule store as file rules,
   * and the send step applies what the store holds at each send, so a rule written through `PUT /rules/{id}` applies
   * to the next message.
   */
  rules?: readonly (Rule | RuleInput)[];
  /** Folder of campaign files. Default: `campaigns/` of the repository. */
  campaignsDir?: string;
  /** Or the campaigns themselves (tests; `[]`: none). Registered, and each compiled definition deployed. */
  campaigns?: readonly Campaign[];
  /** Tests only: the campaign compiler (default `compileCampaign`). */
  compileCampaign?: (campaign: Campaign) => AslDefinition;
  /**
   * Milliseconds between scheduled segment re-checks (time-based rules): real ones on the scaled clock, virtual ones
   * with a VirtualClock (3_600_000 is AWS's hourly schedule). Default: none (use `POST /local/segments/recheck`).
   */
  recheckIntervalMs?: number;
  /** Virtual seconds per real second (`WAYMARK_TIME_SCALE`); Infinity makes every wait instant. Unused with a VirtualClock. */
  timeScale?: number;
  /**
   * The clock of every part of the stack. A VirtualClock (lambdas/local/virtual-clock.ts) puts the whole stack in virtual
   * time: journeys' waits, timeouts and retries, the re-check schedule, event and message times move only when the clock
   * is told (`advance`, `advanceTo`, `runUntilIdle`), with no real sleeps. Default: the system clock, scaled by `timeScale`.
   */
  clock?: Clock;
  /** The stage's default IANA time zone for profiles without `attributes.timezone` (quiet hours, calendar caps). Default: UTC. */
  defaultTimeZone?: string;
  /** Where entries and conversions are counted. Default: the storage's (`memoryJourneyCounters` or the DynamoDB adapter), exposed as `counters`. */
  counters?: JourneyCounters;
  /**
   * Start s3rver (lambdas/local/s3.ts) with the audience bucket: campaigns' sets, and Distributed Map states' ItemReader
   * and ResultWriter. `npm start` does; tests that need S3 ask for it. Default: false.
   */
  s3?: boolean;
  /** Stage `campaignControlGroupPercent`: the share of profiles that never receives campaigns. Default none. */
  campaignControlGroupPercent?: number;
  /** Tests only: wraps each Lambda step's handler (fault injection, e.g. a crash before or after it ran). */
  wrapFunction?: (name: Placeholder, fn: LocalFunction) => LocalFunction;
}

/** The HMAC key of local unsubscribe links (development only; on AWS it comes from Secrets Manager). */
export const LOCAL_UNSUBSCRIBE_SECRET = 'waymark-local-unsubscribe-secret';

/** The local stack's SES configuration set name (in `mail.tags["ses:configuration-set"]` of its SES events). */
export const LOCAL_CONFIGURATION_SET = 'waymark-local';

/** The local SMS origination identity (a number reserved for fiction); its configuration set is LOCAL_CONFIGURATION_SET. */
export const LOCAL_SMS_ORIGINATION_IDENTITY = '+15555550100';

export const LOCAL_TABLES = { profiles: 'waymark-local-profiles', journeys: 'waymark-local-journeys', runtime: 'waymark-local-runtime' } as const;

/** The `*.json` files of a folder, sorted (a missing folder has none). */
function jsonFiles(dir: string): { path: string; text: string }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ path: join(dir, f), text: readFileSync(join(dir, f), 'utf8') }));
}

export function loadJourneyDir(dir: string): CompiledJourney[] {
  return compileCatalog(jsonFiles(dir), dir);
}

export function loadSegmentDir(dir: string): SegmentDefinition[] {
  return compileSegmentFiles(jsonFiles(dir), dir);
}

export function loadCatalogDirs(offersDir: string, placementsDir: string): { offers: Offer[]; placements: Placement[] } {
  return compileCatalogFiles(jsonFiles(offersDir), jsonFiles(placementsDir), `${offersDir} and ${placementsDir}`);
}

export function loadRuleDir(dir: string): Rule[] {
  return compileRuleFiles(jsonFiles(dir), dir);
}

/** `GET /local/executions`: at most this many runs a page (default LIST_DEFAULT). */
export const LIST_MAX = 1000;
const LIST_DEFAULT = 100;

/** `?journeyId=&profileId=&status=&limit=&cursor=`: one page of runs, oldest first, without their inputs. */
function listExecutions(executions: LocalExecutions, q: Record<string, string | undefined>) {
  const errors: { field: string; message: string }[] = [];
  const status = q.status;
  if (status !== undefined && !(EXECUTION_STATUSES as readonly string[]).includes(status)) errors.push({ field: 'status', message: `must be one of ${EXECUTION_STATUSES.join(', ')}` });
  const limit = q.limit === undefined ? LIST_DEFAULT : Number(q.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > LIST_MAX) errors.push({ field: 'limit', message: `must be an integer from 1 to ${LIST_MAX}` });
  let after: string | undefined;
  if (q.cursor !== undefined) after = Buffer.from(q.cursor, 'base64url').toString('utf8');
  if (errors.length > 0) return problem(400, 'Bad Request', errors.map((e) => `${e.field} ${e.message}`).join('; '), errors);
  const page = executions.page({ journeyId: q.journeyId, profileId: q.profileId, status: status as ExecutionStatus | undefined }, limit, after);
  if (!page) return problem(400, 'Bad Request', 'cursor is not one this listing gave (or its run was forgotten)', [{ field: 'cursor', message: 'unknown cursor' }]);
  return json(200, {
    executions: page.executions.map(({ done: _d, input: _i, ...e }) => e),
    ...(page.next === undefined ? {} : { nextCursor: Buffer.from(page.next, 'utf8').toString('base64url') }),
  });
}

/** A step called for a run that has ended (stopped, timed out, failed): refused, as AWS would never call it. */
export class RunEndedError extends Error {
  override readonly name = 'RunEndedError';
  constructor(step: string) {
    super(`${step} was called for a run that has ended`);
  }
}

/** The audience-scan state machine's name in the local Step Functions. */
export const AUDIENCE_SCAN = 'audience-scan';

export type LocalStack = Awaited<ReturnType<typeof startLocalStack>>;

/** Starts the whole platform in this process: dynalite, the bus, the journey runtime, the API and the outbox. */
export async function startLocalStack(options: LocalStackOptions = {}) {
  const clock = options.clock ?? systemClock;
  const virtual = isVirtualClock(clock) ? clock : undefined;
  const timeScale = options.timeScale ?? 1;
  if (!(timeScale > 0)) throw new Error(`timeScale must be a positive number (got ${timeScale})`);
  const journeys = options.journeys ?? loadJourneyDir(options.journeysDir ?? join(__dirname, '..', '..', 'statemachines'));
  const segmentFiles = options.segments ?? loadSegmentDir(options.segmentsDir ?? join(__dirname, '..', '..', 'segments'));
  const catalogFiles = options.catalog ?? loadCatalogDirs(options.offersDir ?? join(__dirname, '..', '..', 'offers'), options.placementsDir ?? join(__dirname, '..', '..', 'placements'));
  const ruleFiles = options.rules?.map((rule) => Rule.parse(rule)) ?? loadRuleDir(options.rulesDir ?? join(__dirname, '..', '..', 'rules'));
  const campaignFiles = options.campaigns ?? loadCampaignDir(options.campaignsDir ?? join(__dirname, '..', '..', 'campaigns'));
  const unknown = unknownReferences(
    journeys.map((j) => j.journey),
    { segments: new Set(segmentFiles.map((x) => x.id)), placements: new Set(catalogFiles.placements.map((p) => p.id)) },
  );
  if (unknown.length > 0) throw new Error(`journeys name segments or placements that are not loaded: ${unknown.join('; ')}`);

  const inMemory = options.storage === 'memory';
  const dynamo = inMemory ? undefined : await startDynalite(Object.values(LOCAL_TABLES), { profileIndexOn: [LOCAL_TABLES.runtime] });
  const s3 = options.s3 ? await startS3rver([LOCAL_AUDIENCE_BUCKET]) : undefined;
  const audienceFiles = s3 && new S3AudienceFiles(s3.client, LOCAL_AUDIENCE_BUCKET);
  const db = dynamo && DynamoDBDocumentClient.from(dynamo.client, { marshallOptions: { removeUndefinedValues: true } });
  const memory = inMemory ? memoryPorts(clock) : undefined;
  const ports: WaymarkPorts = memory ?? dynamoPorts(db!, LOCAL_TABLES, clock);
  // The API and the router share this process: a segment written through the API applies to the next event.
  const segments = cachedSegmentCatalog(ports.segmentStore, clock);
  const segmentStore: SegmentStore = {
    list: () => ports.segmentStore.list(),
    get: (id) => ports.segmentStore.get(id),
    put: async (record, condition) => {
      const written = await ports.segmentStore.put(record, condition);
      segments.invalidate();
      return written;
    },
    delete: async (id) => {
      const deleted = await ports.segmentStore.delete(id);
      segments.invalidate();
      return deleted;
    },
  };
  // As for segments: offers and placements written through the API apply to the next decision.
  const decisions = cachedDecisionCatalog(ports, clock);
  // Journey counters (reports): the same sharded items in the runtime table, in dynalite or in memory.
  const counters = options.counters ?? (memory ? memoryJourneyCounters(memory) : new DynamoJourneyCounters(db!, LOCAL_TABLES.runtime));
  const deps = { ...ports, segmentStore, segments, decisions, counters, newId: () => randomUUID() };
  const campaignOptions = { campaigns: campaignFiles, clock, compile: options.compileCampaign, ...(db ? { dynamo: { db, journeysTable: LOCAL_TABLES.journeys, runtimeTable: LOCAL_TABLES.runtime } } : {}) };
  const campaignStores = localCampaignStores(campaignOptions);
  // How runs end (completed, failed, timeout): on AWS a rule on the default bus for Step Functions' status change
  // events; here the runner hands each ended run's event to the same handler (not through the local bus: its router
  // rule takes every source but waymark.*). Settling waits for them.
  const countRunEnd = createCountRunEndHandler({ counters, once: memory ? memoryOnceMarks(memory) : new DynamoOnceMarks(db!, LOCAL_TABLES.runtime), clock });
  const runEnds = new Set<Promise<unknown>>();
  const onRunEnd = (event: unknown) => {
    const counted: Promise<unknown> = countRunEnd(event, { functionName: 'count-run-end', awsRequestId: randomUUID() } as never)
      .catch((error: unknown) => console.error('count-run-end failed', error))
      .finally(() => runEnds.delete(counted));
    runEnds.add(counted);
  };
  const { profiles, journeys: registry } = deps;
  const loadedAt = clock.now().toISOString();
  for (const definition of segmentFiles) await segmentStore.put({ definition, origin: 'file', version: 1, updatedAt: loadedAt }, { force: true });
  for (const definition of catalogFiles.placements) await ports.placementStore.put({ definition, origin: 'file', version: 1, updatedAt: loadedAt }, { force: true });
  for (const definition of catalogFiles.offers) await ports.offerStore.put({ definition, origin: 'file', version: 1, updatedAt: loadedAt }, { force: true });
  for (const definition of ruleFiles) await ports.ruleStore.put({ definition, origin: 'file', version: 1, updatedAt: loadedAt }, { force: true });
  // Unsubscribe links: a fixed development secret (WAYMARK_UNSUBSCRIBE_SECRET overrides it), links to this server.
  let publicUrl = process.env[EnvKey.publicUrl] ?? '';
  const getSecret = async () => process.env.WAYMARK_UNSUBSCRIBE_SECRET ?? LOCAL_UNSUBSCRIBE_SECRET;
  const consentDeps = {
    clock,
    suppression: memory ? memorySuppressionList(memory) : new DynamoSuppressionList(db!, LOCAL_TABLES.runtime),
    consent: memory ? memoryConsentStore(memory) : new DynamoConsentStore(db!, LOCAL_TABLES.profiles, clock),
    getSecret,
    unsubscribeLinks: createUnsubscribeLinks({ getSecret, publicUrl: () => publicUrl, clock }),
  };
  const defaultTimeZone = options.defaultTimeZone ?? 'UTC';
  if (!isTimeZone(defaultTimeZone)) throw new Error(`defaultTimeZone must be an IANA time zone (got ${JSON.stringify(defaultTimeZone)})`);
  // Late binding: the executions are built below from these functions.
  const runs = enrollmentRuns({ enrollments: deps.enrollments, executions: { isRunning: (arn) => executions.isRunning(arn) } });
  // The rules in force are read from the store at each send (files and API alike; AWS caches them a minute).
  const governance = { rules: ports.ruleStore, caps: ports.sendCaps, defaultTimeZone, arbitration: { journeys: registry, runs } };
  const outbox = new Outbox(() => clock.now());
  const metrics = new LocalMetrics();
  const functions: Partial<Record<Placeholder, LocalFunction>> = {
    [Placeholder.prepareSendFunction]: createPrepareSendHandler({ ...deps, ...consentDeps, governance }) as LocalFunction,
    // The local Step Functions is built from these functions, so register-wait reaches it through a late binding.
    [Placeholder.registerWaitFunction]: createRegisterWaitHandler({ ...deps, executions: { resume: (token, output) => executions.resume(token, output) } }) as LocalFunction,
    [Placeholder.resolveWaitFunction]: createResolveWaitHandler(deps) as LocalFunction,
    [Placeholder.loadProfileFunction]: createLoadProfileHandler(deps) as LocalFunction,
    [Placeholder.decideFunction]: createDecideStepHandler(deps) as LocalFunction,
    // Late bindings: the scan runs journeys (segment entries) and publishes on the bus, both built below.
    [Placeholder.scanProfilesFunction]: ((payload, context) => scanProfiles(payload, context)) as LocalFunction,
    // Every step of a campaign's state machine; the runner reaches the local Step Functions through a late binding.
    [Placeholder.campaignStepFunction]: createCampaignStepHandler(
      campaignStepActions({
        ...deps,
        ...campaignStores,
        ...consentDeps,
        clock,
        files: audienceFiles ?? noAudienceBucket(),
        sender: localCampaignSender(outbox),
        stageTimeZone: defaultTimeZone,
        controlGroupPercent: options.campaignControlGroupPercent,
        governance,
        decisions: deps,
        executions: {
          start: (arn, name, input) => executions.start(arn, name, input),
          isRunning: (arn) => executions.isRunning(arn),
          resume: (token, output) => executions.resume(token, output),
          stop: (arn, cause) => executions.stop(arn, cause),
        },
      }),
    ) as LocalFunction,
  };
  // aws-local-stepfunctions retries a task of a run that was stopped or timed out, where AWS runs nothing more: a step
  // of an ended run fails at once (a wait-for-event would otherwise register a token no one can resume).
  const ended = (payload: unknown) => {
    const id = (payload as { executionId?: unknown } | null)?.executionId;
    return typeof id === 'string' && executions.get(id) !== undefined && executions.get(id)?.status !== 'RUNNING';
  };
  for (const [name, fn] of Object.entries(functions) as [Placeholder, LocalFunction][]) {
    const wrapped = options.wrapFunction?.(name, fn) ?? fn;
    functions[name] = (payload, context) => (ended(payload) ? Promise.reject(new RunEndedError(name)) : wrapped(payload, context));
  }
  const executions = new LocalExecutions({
    functions,
    values: {
      [Placeholder.runtimeTable]: LOCAL_TABLES.runtime,
      [Placeholder.senderEmail]: 'no-reply@waymark.local',
      [Placeholder.emailConfigurationSet]: LOCAL_CONFIGURATION_SET,
      [Placeholder.pushApplicationId]: 'local-push-app',
      [Placeholder.smsConfigurationSet]: LOCAL_CONFIGURATION_SET,
      [Placeholder.smsOriginationIdentity]: LOCAL_SMS_ORIGINATION_IDENTITY,
      [Placeholder.metricsNamespace]: 'Waymark/local',
      [Placeholder.audienceBucket]: LOCAL_AUDIENCE_BUCKET,
    },
    dynamo: dynamo?.client,
    s3: s3?.client,
    ...(memory ? { updateItem: memoryUpdateItem(memory, { runtimeTable: LOCAL_TABLES.runtime }) } : {}),
    outbox,
    metrics,
    timeScale,
    clock,
    onEnd: onRunEnd,
  });
  // As `cdk deploy` does: the state machine, a version when the definition changed, the `live` alias, the registry item.
  const deployJourney = async (compiled: CompiledJourney) => {
    const deployed = executions.deployJourney(compiled.journey.id, compiled.asl);
    await registry.put({ journey: compiled.journey, version: compiled.version, ...deployed });
    return deployed;
  };
  for (const compiled of journeys) await deployJourney(compiled);

  const audienceScanArn = executions.deploy(AUDIENCE_SCAN, audienceScanDefinition(), { internal: true });
  // As `cdk deploy` does for campaigns: the registry items and each compiled definition (one that does not compile yet
  // is registered, and its runs fail naming why).
  const campaigns = await deployLocalCampaigns(campaignOptions, campaignStores, executions);
  // A dry run is looked at again once the runs are quiet (virtual time), or after a short real pause.
  const waitForRun = async () => {
    await executions.whenQuiet();
    await new Promise<void>((resolve) => (virtual ? setImmediate(resolve) : setTimeout(resolve, 50)));
  };
  const audienceJobs: AudienceJobs = {
    start: async (input) => ({ executionArn: (await executions.start(audienceScanArn, input.job.jobId, input as never)).executionArn }),
  };

  const bus = new LocalBus('waymark-local', undefined, () => clock.now());
  const segmentDeps = { ...deps, executions, publisher: bus, audienceJobs };
  const scanProfiles = createScanProfilesHandler(segmentDeps);
  const campaignGoals = { goals: cachedCampaignGoals(campaignStores.registry, clock), store: ports.campaignConversions, runs: campaignStores.runs };
  const routeEvent = createRouteEventHandler({ ...deps, executions, publisher: bus, segmentation: { segments, memberships: deps.memberships }, campaignGoals });
  bus.addRule({ name: 'route-events', pattern: ROUTER_EVENT_PATTERN, target: (event) => routeEvent(event, { functionName: 'route-event', awsRequestId: event.id } as never) });
  const recordDeliveryEvent = createRecordDeliveryEventHandler({ ...consentDeps, ledger: ports.ledger, journeys: registry, profiles, counters, campaignRuns: campaignStores.runs });
  bus.addRule({ name: 'ses-delivery-events', pattern: SES_DELIVERY_EVENT_PATTERN, target: (event) => recordDeliveryEvent(event, { functionName: 'record-delivery-event', awsRequestId: event.id } as never) });
  // The stage rule's pattern: this stage's configuration set, named in every journey SMS's context.
  const smsPattern = { ...SMS_STATUS_EVENT_PATTERN, detail: { context: { [SMS_CONTEXT.configurationSet]: [LOCAL_CONFIGURATION_SET] } } };
  bus.addRule({
    name: 'sms-delivery-events',
    pattern: smsPattern,
    target: (event) => recordDeliveryEvent(event, { functionName: 'record-delivery-event', awsRequestId: event.id } as never),
  });

  const apiDeps = { ...deps, executions };
  const routes: Route[] = [
    { method: 'POST', path: '/events', handler: createIngestEventHandler({ publisher: bus, clock }) },
    { method: 'GET', path: '/journeys', handler: createListJourneysHandler(apiDeps) },
    { method: 'GET', path: '/journeys/{id}', handler: createGetJourneyHandler({ journeys: registry, versions: executions }) },
    { method: 'POST', path: '/journeys/{id}/trigger', handler: createTriggerJourneyHandler(apiDeps) },
    { method: 'GET', path: '/journeys/{id}/report', handler: createGetJourneyReportHandler(deps) },
    { method: 'GET', path: '/events/rejected', handler: createListRejectedEventsHandler(deps) },
    { method: 'GET', path: '/profiles', handler: createFindProfileHandler(deps) },
    { method: 'GET', path: '/profiles/{id}', handler: createGetProfileHandler(deps) },
    { method: 'PUT', path: '/profiles/{id}/attributes', handler: createUpdateProfileAttributesHandler({ ...deps, executions, publisher: bus }) },
    { method: 'DELETE', path: '/profiles/{id}', handler: createEraseProfileHandler({ ...deps, executions }) },
    { method: 'GET', path: '/profiles/{id}/export', handler: createExportProfileHandler(deps) },
    { method: 'GET', path: '/profiles/{id}/consent', handler: createGetConsentHandler(deps) },
    { method: 'PUT', path: '/profiles/{id}/consent', handler: createUpdateConsentHandler({ ...deps, ...consentDeps }) },
    { method: 'GET', path: '/segments', handler: createListSegmentsHandler(segmentDeps) },
    { method: 'POST', path: '/segments', handler: createCreateSegmentHandler(segmentDeps) },
    { method: 'GET', path: '/segments/{id}', handler: createGetSegmentHandler(segmentDeps) },
    { method: 'PUT', path: '/segments/{id}', handler: createPutSegmentHandler(segmentDeps) },
    { method: 'DELETE', path: '/segments/{id}', handler: createDeleteSegmentHandler(segmentDeps) },
    { method: 'POST', path: '/segments/{id}/evaluate', handler: createEvaluateSegmentHandler(segmentDeps) },
    { method: 'GET', path: '/segments/{id}/snapshots/{snapshotId}', handler: createGetSnapshotHandler(segmentDeps) },
    { method: 'GET', path: '/segments/{id}/estimate', handler: createEstimateSegmentHandler(segmentDeps) },
    { method: 'POST', path: '/decisions', handler: createDecideHandler(deps) },
    { method: 'GET', path: '/profiles/{id}/decisions', handler: createListDecisionsHandler(deps) },
    { method: 'GET', path: '/profiles/{id}/journeys', handler: createListProfileJourneysHandler({ ...deps, history: executions }) },
    { method: 'GET', path: '/profiles/{id}/journeys/{journeyId}', handler: createExplainProfileJourneyHandler({ ...deps, history: executions }) },
    { method: 'GET', path: '/offers', handler: createListOffersHandler(deps) },
    { method: 'POST', path: '/offers', handler: createCreateOfferHandler(deps) },
    { method: 'GET', path: '/offers/{id}', handler: createGetOfferHandler(deps) },
    { method: 'PUT', path: '/offers/{id}', handler: createPutOfferHandler(deps) },
    { method: 'DELETE', path: '/offers/{id}', handler: createDeleteOfferHandler(deps) },
    { method: 'GET', path: '/placements', handler: createListPlacementsHandler(deps) },
    { method: 'POST', path: '/placements', handler: createCreatePlacementHandler(deps) },
    { method: 'GET', path: '/placements/{id}', handler: createGetPlacementHandler(deps) },
    { method: 'PUT', path: '/placements/{id}', handler: createPutPlacementHandler(deps) },
    { method: 'DELETE', path: '/placements/{id}', handler: createDeletePlacementHandler(deps) },
    { method: 'GET', path: '/rules', handler: createListRulesHandler(deps) },
    { method: 'GET', path: '/rules/{id}', handler: createGetRuleHandler(deps) },
    { method: 'PUT', path: '/rules/{id}', handler: createPutRuleHandler(deps) },
    { method: 'DELETE', path: '/rules/{id}', handler: createDeleteRuleHandler(deps) },
    ...localCampaignRoutes({ ...campaignStores, executions: campaigns.executions, clock, waitForRun }),
    { method: 'GET', path: '/unsubscribe', handler: createConfirmUnsubscribeHandler(consentDeps) },
    { method: 'POST', path: '/unsubscribe', handler: createUnsubscribeProfileHandler(consentDeps) },
    {
      method: 'GET',
      path: '/local/outbox',
      handler: async (event) => {
        const q = event.queryStringParameters ?? {};
        return json(200, { messages: outbox.list({ channel: q.channel as never, journeyId: q.journeyId, profileId: q.profileId, recipient: q.recipient }) });
      },
    },
    { method: 'DELETE', path: '/local/outbox', handler: async () => (outbox.clear(), json(204, null)) },
    {
      // What the send steps did not send (the ledger's `suppressed` entries) and why: consent, caps, quiet hours…
      method: 'GET',
      path: '/local/outbox/suppressed',
      handler: async (event) => {
        const q = event.queryStringParameters ?? {};
        const source = memory ? memorySuppressedSource(memoryTables(memory).runtime) : dynamoSuppressedSource(db!, LOCAL_TABLES.runtime);
        return json(200, { messages: await listSuppressed(source, { channel: q.channel, journeyId: q.journeyId, profileId: q.profileId }) });
      },
    },
    {
      // What SES would put on the bus for an email in the outbox (delivery, open, click, bounce, complaint), or End User
      // Messaging SMS for an SMS (delivery, failure).
      method: 'POST',
      path: '/local/outbox/{messageId}/events',
      handler: apiHandler(async (event) => {
        const messageId = event.pathParameters?.messageId ?? '';
        const request = checkEngagementRequest(outbox.get(messageId), messageId, parseJsonBody(event));
        const entry = engagementEventEntry(outbox.get(messageId)!, request, clock.now(), LOCAL_CONFIGURATION_SET);
        const out = bus.putEvents([entry]);
        return json(202, { eventId: out.Entries[0].EventId, 'detail-type': entry.DetailType, detail: JSON.parse(entry.Detail!) });
      }),
    },
    {
      method: 'GET',
      path: '/local/executions',
      handler: async (event) => listExecutions(executions, event.queryStringParameters ?? {}),
    },
    {
      // What the hourly schedule does on AWS: re-evaluates the time-based segments of every profile.
      method: 'POST',
      path: '/local/segments/recheck',
      handler: async () => json(202, await startRecheck()),
    },
    { method: 'GET', path: '/local/dead-letters', handler: async () => json(200, { deadLetters: bus.deadLetters }) },
    { method: 'GET', path: '/health', handler: async () => json(200, { status: 'ok', journeys: journeys.length, timeScale: virtual ? 'virtual' : timeScale }) },
  ];
  // One re-check at a time, requested or scheduled: a request while one runs answers the running one.
  let recheckRuns = 0;
  let lastRecheck: { jobId: string; executionArn: string; startedAt: number } | undefined;
  const lastRecheckRun = (): RecheckRun | undefined => {
    if (!lastRecheck) return undefined;
    const execution = executions.get(lastRecheck.executionArn);
    if (execution?.status === 'RUNNING') return { startedAt: lastRecheck.startedAt };
    return { startedAt: lastRecheck.startedAt, stoppedAt: execution?.stopDate ? Date.parse(execution.stopDate) : lastRecheck.startedAt };
  };
  let starting: Promise<{ jobId: string; executionArn: string; started: boolean }> | undefined;
  const startRecheck = async (): Promise<{ jobId: string; executionArn: string; started: boolean }> => {
    if (starting) return { ...(await starting), started: false };
    if (lastRecheck && lastRecheckRun()?.stoppedAt === undefined) return { jobId: lastRecheck.jobId, executionArn: lastRecheck.executionArn, started: false };
    starting = (async () => {
      const jobId = `recheck-local-${clock.now().getTime()}-${++recheckRuns}`;
      const parts = [0, 1, 2, 3];
      const startedAt = clock.now().getTime();
      const { executionArn } = await audienceJobs.start({ job: { kind: 'recheck', jobId }, totalSegments: parts.length, parts });
      lastRecheck = { jobId, executionArn, startedAt };
      return { jobId, executionArn, started: true };
    })();
    try {
      return await starting;
    } finally {
      starting = undefined;
    }
  };
  const recheckPolicy = { intervalMs: options.recheckIntervalMs ?? 0, maxBusyShare: DEFAULT_MAX_BUSY_SHARE };
  // Virtual time: the schedule is a background timer every interval of virtual time (it never keeps runUntilIdle going);
  // a tick while a re-check runs starts none, as on real time.
  let cancelRecheck: (() => void) | undefined;
  if (virtual && options.recheckIntervalMs) {
    const interval = options.recheckIntervalMs;
    const tick = () => {
      cancelRecheck = virtual.schedule(virtual.nowMs() + interval, tick, { background: true });
      void startRecheck();
    };
    cancelRecheck = virtual.schedule(virtual.nowMs() + interval, tick, { background: true });
  }
  // Ticks are cheap when skipped; a re-check starts only when recheckDecision says so.
  const recheckTimer = options.recheckIntervalMs && !virtual
    ? setInterval(() => {
        if (!starting && recheckDecision(lastRecheckRun(), clock.now().getTime(), recheckPolicy).start) void startRecheck();
      }, Math.min(options.recheckIntervalMs, 1000))
    : undefined;
  recheckTimer?.unref();
  // Virtual time moves only when the stack is settled: the bus has delivered everything and every run is parked.
  const flush = () => new Promise<void>((resolve) => setImmediate(resolve));
  const quiesce = async (): Promise<void> => {
    for (;;) {
      await bus.idle();
      await executions.whenQuiet();
      while (runEnds.size > 0) await Promise.all([...runEnds]);
      // A run between two states is neither at work nor parked: let pending callbacks run, then look again.
      await flush();
      if (bus.pending() === 0 && executions.quiet() && runEnds.size === 0) return;
    }
  };
  virtual?.onQuiesce(quiesce);
  const router = createRouter(routes);
  const server = options.listen === false ? undefined : createLocalServer(bus, routes);
  let url = 'http://waymark.local';
  if (server) {
    const port = options.port ?? Number(process.env.PORT ?? 3000);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  publicUrl ||= url;

  return {
    url,
    bus,
    outbox,
    metrics,
    executions,
    profiles,
    suppression: consentDeps.suppression,
    /** The journey counters (entries, sends, engagement, split assignments, conversions). */
    counters,
    /** Campaign run records and counters, and the registry (dynalite or memory, like the other stores). */
    campaignRuns: campaignStores.runs,
    campaignRegistry: campaignStores.registry,
    /** Campaigns registered but not deployed, with why (e.g. a definition that does not compile). */
    campaignProblems: campaigns.problems,
    journeys,
    /** With `storage: 'memory'`: its tables (tests recount raw items from them); undefined with dynalite. */
    memoryTables: memory && memoryTables(memory),
    /** The dynalite endpoint; empty with `storage: 'memory'`. */
    dynamoEndpoint: dynamo?.endpoint ?? '',
    /** With `s3: true`: s3rver's endpoint and client (path-style), and the audience bucket `${AudienceBucketName}` names. */
    s3: s3 && { endpoint: s3.endpoint, client: s3.client, bucket: LOCAL_AUDIENCE_BUCKET },
    /** With `s3: true`: the AudienceFiles port over the local audience bucket (the S3 adapter, as on AWS). */
    audienceFiles,
    tables: LOCAL_TABLES,
    /** The stack's clock (a VirtualClock when one was given). */
    clock,
    /** A request to the REST API and `/local/*` routes in process, answered as over HTTP (no server needed). */
    request: (request: LocalRequest) => router(request),
    /** Method and path of every route (test/infra/entry-points.test.ts checks them against the deployed API). */
    routes: routes.map(({ method, path }) => ({ method, path })),
    /**
     * Waits until the bus has delivered everything and no execution is running, except those parked on a wait-for-event
     * (in virtual time: or on a wait, a retry interval; time does not move).
     */
    async settle(): Promise<void> {
      if (virtual) return quiesce();
      const quiet = () => executions.list({ status: 'RUNNING' }).length === executions.waitingCount();
      for (;;) {
        await bus.idle();
        while (runEnds.size > 0) await Promise.all([...runEnds]);
        if (quiet()) {
          // Quiet twice, 20 ms apart: a step that was between two states has had time to show itself.
          await new Promise((r) => setTimeout(r, 20));
          await bus.idle();
          if (quiet()) return;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    segmentStore,
    /**
     * Deploys a journey again (a changed or an earlier definition): a new version when the definition differs from the
     * live one, the alias moved, the registry item put. Runs in flight finish on the version they started on.
     */
    deployJourney,
    /** Starts a re-check of time-based segments over every profile (as the schedule does on AWS). */
    recheckSegments: startRecheck,
    async stop(): Promise<void> {
      if (recheckTimer) clearInterval(recheckTimer);
      cancelRecheck?.();
      for (const e of executions.list({ status: 'RUNNING' })) await executions.stop(e.executionArn);
      while (runEnds.size > 0) await Promise.all([...runEnds]);
      if (server) {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections?.();
      }
      await dynamo?.stop();
      await s3?.stop();
    },
  };
}
