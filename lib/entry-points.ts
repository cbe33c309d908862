/**
 * Every Lambda entry point of the platform, declared once: what triggers it, which handler file it runs, and what it
 * reads or writes. The app stack derives each function, its environment, its grants and its API method from this list
 * (lib/features/); test/infra/entry-points.test.ts checks the synthesized stack, the local stack's routes and the
 * README's route table against it, and test/unit/architecture/declared-tables.test.ts runs each handler with only the
 * environment its `uses` implies (a table, bus or secret it uses but does not declare fails there, named). Pure data
 * (no CDK import), so tests and tools can read it without synthesizing.
 * How to add one: lib/README.md ("Adding an entry point").
 */

/** The app stack's feature constructs (lib/features/); each creates the functions of its entry points. */
export type FeatureName = 'events' | 'profiles' | 'consent' | 'journeys' | 'segments' | 'decisioning' | 'governance' | 'campaigns';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

/** The Lambda steps a journey's state machine invokes (the `${Placeholder}`s of the compiled ASL). */
export type JourneyStep = 'prepareSend' | 'registerWait' | 'resolveWait' | 'loadProfile' | 'decide';

/** EventBridge rules of the app stack (their patterns, retries and dead-letter queues are in lib/features/). */
export type BusRule = 'business-events' | 'ses-delivery-events' | 'sms-delivery-events' | 'run-status-events';

export type Trigger =
  /**
   * A REST API method. `route` is `METHOD /path` under the stage; `{name}` segments are required path parameters.
   * IAM (SigV4) authorization unless `public` (then a method-level throttle of its own applies).
   */
  | {
      readonly kind: 'api';
      readonly route: `${HttpMethod} /${string}`;
      /** A JSON object body, checked by the request validator (the handler validates its fields). */
      readonly body?: boolean;
      /** Query string parameters the request validator knows: required or optional. */
      readonly query?: Readonly<Record<string, 'required' | 'optional'>>;
      /** No IAM authorization (the one case: the unsubscribe link, authorized by its signed token). */
      readonly public?: boolean;
    }
  | { readonly kind: 'journey-step'; readonly step: JourneyStep }
  /** `rules`: further rules with the same target (record-delivery-event takes SES and SMS events). */
  | { readonly kind: 'bus-rule'; readonly rule: BusRule; readonly rules?: readonly BusRule[] }
  /** A Task of the audience-scan state machine (snapshots, the hourly re-check). */
  | { readonly kind: 'audience-scan-step' }
  /** Every Task of the campaigns' state machines (`${CampaignStepFunctionArn}`), one function for every action. */
  | { readonly kind: 'campaign-step' };

export type TableName = 'profiles' | 'journeys' | 'runtime';
export type Access = 'read' | 'readWrite';
export type SecretName = 'unsubscribe' | 'privacyKey';
/** `history`: GetExecutionHistory of a run (what "why" reads). */
export type JourneyRunAction = 'start' | 'describe' | 'stop' | 'history';
/** Runs of the campaigns' state machines (one execution per campaign run). */
export type CampaignRunAction = 'start' | 'describe' | 'stop';

export interface Uses {
  /**
   * DynamoDB tables and how (read: Get/Query/Scan; readWrite: also Put/Update/Delete). Only these tables' names are in
   * the function's environment: its ports on the others fail when used (MissingEnvironmentError).
   */
  readonly tables?: Readonly<Partial<Record<TableName, Access>>>;
  /** Puts events on the stage's bus (env WAYMARK_EVENT_BUS_NAME). */
  readonly bus?: 'put';
  /** Secrets read (env WAYMARK_UNSUBSCRIBE_SECRET_ARN / WAYMARK_PRIVACY_KEY_SECRET_ARN). */
  readonly secrets?: readonly SecretName[];
  /**
   * Runs of journey state machines. `all`: every journey of the stage. `segment`: start the journeys entered on a
   * segment, stop runs of those with a segment-exited exit criterion, describe runs of either.
   */
  readonly journeyRuns?: { readonly of: 'all' | 'segment'; readonly actions: readonly JourneyRunAction[] };
  /** Resumes waits: states:SendTaskSuccess/SendTaskFailure (Resource "*": the task token authorizes). */
  readonly taskTokens?: boolean;
  /** Starts the audience-scan state machine (env WAYMARK_AUDIENCE_SCAN_STATE_MACHINE_ARN). */
  readonly audienceScan?: 'start';
  /** Needs the API's public base URL (env WAYMARK_PUBLIC_URL): links in messages. */
  readonly publicUrl?: boolean;
  /** Describes the stage's journey state machines and their versions (states:DescribeStateMachine). */
  readonly journeyVersions?: 'describe';
  /** Describes the stage's campaign state machines and their versions (states:DescribeStateMachine). */
  readonly campaignVersions?: 'describe';
  /** Reads the stage's `defaultTimezone` (lib/config.ts; env WAYMARK_DEFAULT_TIME_ZONE): governance rules. */
  readonly defaultTimeZone?: boolean;
  /**
   * The campaign audience bucket (data stack; env WAYMARK_AUDIENCE_BUCKET_NAME). `read`: GetObject and ListBucket under
   * `runs/` and `campaign-results/`; `readWrite`: also PutObject and AbortMultipartUpload under `runs/`.
   */
  readonly audienceBucket?: Access;
  /**
   * Runs of the stage's campaign state machines (env WAYMARK_CAMPAIGN_STATE_MACHINE_PREFIX, the ARN prefix of
   * `waymark-<stage>_c-<campaignId>`): start them, describe or stop their executions.
   */
  readonly campaignRuns?: { readonly actions: readonly CampaignRunAction[] };
  /**
   * Sends messages itself (campaign batches; journeys send from their state machines): env WAYMARK_SENDER_EMAIL,
   * WAYMARK_EMAIL_CONFIGURATION_SET, WAYMARK_PUSH_APPLICATION_ID; SES v2 SendEmail on the sender identity and the
   * stage's configuration set, SNS Publish (SMS), End User Messaging SendMessages on the push application.
   */
  readonly messages?: 'send';
}

export interface EntryPoint {
  readonly feature: FeatureName;
  /** The file `lambdas/handlers/<handler>.ts`. */
  readonly handler: string;
  readonly trigger: Trigger;
  /** What it does; the console description (API entry points are prefixed with their route). */
  readonly summary: string;
  readonly uses: Uses;
  /** @default 10 */
  readonly timeoutSeconds?: number;
  /** @default 512 */
  readonly memoryMb?: number;
}

const api = (route: `${HttpMethod} /${string}`, more: { body?: boolean; query?: Record<string, 'required' | 'optional'>; public?: boolean } = {}) =>
  ({ kind: 'api', route, ...more }) as const;
const step = (name: JourneyStep) => ({ kind: 'journey-step', step: name }) as const;

const R = 'read' as const;
const RW = 'readWrite' as const;

/**
 * The entry points by name. The name is the function's construct id in PascalCase (`getProfile` → `GetProfile`, so its
 * logical ids are `GetProfileFunction…`, `GetProfileRole…`): renaming one replaces the function. Order matters only for
 * API methods (the API deployment's id hashes them in order): add new ones at the end of their feature.
 */
export const ENTRY_POINTS = {
  // --- events
  ingestEvent: {
    feature: 'events',
    handler: 'ingest-event',
    trigger: api('POST /events', { body: true }),
    summary: 'validates an event and puts it on the bus',
    uses: { bus: 'put' },
  },
  listRejectedEvents: {
    feature: 'events',
    handler: 'list-rejected-events',
    trigger: api('GET /events/rejected'),
    summary: 'invalid events kept with their reasons',
    uses: { tables: { runtime: R } },
  },
  routeEvent: {
    feature: 'events',
    handler: 'route-event',
    trigger: { kind: 'bus-rule', rule: 'business-events' },
    summary: 'Routes a business event: profile upsert, journey entries, waits resumed',
    // ProfileMerged goes back onto the bus (the route rule ignores waymark.* sources).
    uses: {
      tables: { profiles: RW, journeys: R, runtime: RW },
      bus: 'put',
      secrets: ['privacyKey'],
      journeyRuns: { of: 'all', actions: ['start', 'describe', 'stop'] },
      taskTokens: true,
    },
    timeoutSeconds: 30,
  },
  // --- profiles
  findProfile: {
    feature: 'profiles',
    handler: 'find-profile',
    trigger: api('GET /profiles', { query: { identity: 'required' } }),
    summary: 'a profile by any identity (?identity=ns:value)',
    uses: { tables: { profiles: R } },
  },
  getProfile: {
    feature: 'profiles',
    handler: 'get-profile',
    trigger: api('GET /profiles/{id}'),
    summary: 'a profile (merged ids answer with the survivor)',
    uses: { tables: { profiles: R } },
  },
  eraseProfile: {
    feature: 'profiles',
    handler: 'erase-profile',
    trigger: api('DELETE /profiles/{id}'),
    summary: 'erases a profile everywhere and stops its journeys',
    uses: { tables: { profiles: RW, runtime: RW }, secrets: ['privacyKey'], journeyRuns: { of: 'all', actions: ['describe', 'stop'] } },
    timeoutSeconds: 60,
  },
  updateProfileAttributes: {
    feature: 'profiles',
    handler: 'update-profile-attributes',
    trigger: api('PUT /profiles/{id}/attributes', { body: true }),
    summary: 'attribute updates, with the segments they affect',
    // Evaluates the segments an update affects, like the re-check: SegmentEntered/SegmentExited on the bus.
    uses: {
      tables: { profiles: RW, journeys: R, runtime: RW },
      bus: 'put',
      secrets: ['privacyKey'],
      journeyRuns: { of: 'segment', actions: ['start', 'describe', 'stop'] },
    },
  },
  exportProfile: {
    feature: 'profiles',
    handler: 'export-profile',
    trigger: api('GET /profiles/{id}/export'),
    summary: 'everything held about a profile',
    uses: { tables: { profiles: R, runtime: R } },
  },
  listProfileJourneys: {
    feature: 'profiles',
    handler: 'list-profile-journeys',
    trigger: api('GET /profiles/{id}/journeys', { query: { limit: 'optional' } }),
    summary: "the profile's journey runs, newest first",
    uses: { tables: { profiles: R, journeys: R, runtime: R }, journeyRuns: { of: 'all', actions: ['describe'] } },
  },
  explainProfileJourney: {
    feature: 'profiles',
    handler: 'explain-profile-journey',
    trigger: api('GET /profiles/{id}/journeys/{journeyId}', { query: { limit: 'optional' } }),
    summary: "why: the profile's runs of a journey, with nodes, messages, decisions, variants and how each ended",
    uses: { tables: { profiles: R, journeys: R, runtime: R }, journeyRuns: { of: 'all', actions: ['describe', 'history'] } },
  },
  // --- consent
  getConsent: {
    feature: 'consent',
    handler: 'get-consent',
    trigger: api('GET /profiles/{id}/consent'),
    summary: 'consent per channel and list',
    uses: { tables: { profiles: R } },
  },
  updateConsent: {
    feature: 'consent',
    handler: 'update-consent',
    trigger: api('PUT /profiles/{id}/consent', { body: true }),
    summary: 'opt-in / opt-out per channel and list',
    uses: { tables: { profiles: RW } },
  },
  confirmUnsubscribe: {
    feature: 'consent',
    handler: 'confirm-unsubscribe',
    trigger: api('GET /unsubscribe', { public: true, query: { token: 'required' } }),
    summary: 'checks the signed link, asks to confirm (public: the signed token authorizes)',
    uses: { secrets: ['unsubscribe'] },
  },
  unsubscribeProfile: {
    feature: 'consent',
    handler: 'unsubscribe-profile',
    trigger: api('POST /unsubscribe', { public: true, query: { token: 'required' } }),
    summary: 'opts the profile out (public, RFC 8058 one-click)',
    uses: { tables: { profiles: RW }, secrets: ['unsubscribe'] },
  },
  recordDeliveryEvent: {
    feature: 'consent',
    handler: 'record-delivery-event',
    trigger: { kind: 'bus-rule', rule: 'ses-delivery-events', rules: ['sms-delivery-events'] },
    summary: 'SES email and SMS status events: bounces and complaints suppress, every event is recorded on its message and counted',
    // Ledger and counters in the runtime table, the registry (journeys) to find a message's run, the profile's email.* stats.
    uses: { tables: { profiles: RW, journeys: R, runtime: RW }, secrets: ['privacyKey'] },
  },
  // --- journeys
  listJourneys: {
    feature: 'journeys',
    handler: 'list-journeys',
    trigger: api('GET /journeys'),
    summary: 'the registered journeys',
    uses: { tables: { journeys: R } },
  },
  triggerJourney: {
    feature: 'journeys',
    handler: 'trigger-journey',
    trigger: api('POST /journeys/{id}/trigger', { body: true }),
    summary: 'starts an API-triggered journey for a profile',
    uses: {
      tables: { profiles: RW, journeys: R, runtime: RW },
      secrets: ['privacyKey'],
      // stop: a higher-priority entry of an exclusive group stops the profile's lower runs (preempted).
      journeyRuns: { of: 'all', actions: ['start', 'describe', 'stop'] },
    },
  },
  prepareSend: {
    feature: 'journeys',
    handler: 'prepare-send',
    trigger: step('prepareSend'),
    summary: 'Journey step: pre-send guard, ledger entry, rendered message',
    // Signs the unsubscribe links of marketing email, which point at this API. Governance: the rules and journeys
    // (journeys table), cap slots (runtime), and for priority arbitration whether higher runs still run (describe).
    uses: {
      tables: { profiles: R, journeys: R, runtime: RW },
      secrets: ['unsubscribe', 'privacyKey'],
      publicUrl: true,
      journeyRuns: { of: 'all', actions: ['describe'] },
      defaultTimeZone: true,
    },
  },
  registerWait: {
    feature: 'journeys',
    handler: 'register-wait',
    trigger: step('registerWait'),
    summary: 'Journey step: registers a wait-for-event with its task token',
    // Reads the profile's recent events and resumes its own task when the awaited event came first.
    uses: { tables: { profiles: R, runtime: RW }, taskTokens: true },
  },
  resolveWait: {
    feature: 'journeys',
    handler: 'resolve-wait',
    trigger: step('resolveWait'),
    summary: 'Journey step: resolves a wait-until time in the profile time zone',
    uses: { tables: { profiles: R } },
  },
  loadProfile: {
    feature: 'journeys',
    handler: 'load-profile',
    trigger: step('loadProfile'),
    summary: 'Journey step: reloads the profile before a condition',
    uses: { tables: { profiles: R } },
  },
  getJourney: {
    feature: 'journeys',
    handler: 'get-journey',
    trigger: api('GET /journeys/{id}'),
    summary: 'a journey with its live version and when it was published',
    uses: { tables: { journeys: R }, journeyVersions: 'describe' },
  },
  getJourneyReport: {
    feature: 'journeys',
    handler: 'get-journey-report',
    trigger: api('GET /journeys/{id}/report', { query: { from: 'optional', to: 'optional' } }),
    summary: "the journey's report: funnel, per node, goal, variants with uplift and intervals",
    uses: { tables: { journeys: R, runtime: R } },
  },
  countRunEnd: {
    feature: 'journeys',
    handler: 'count-run-end',
    trigger: { kind: 'bus-rule', rule: 'run-status-events' },
    summary: "Counts journey runs that ended by themselves (Step Functions' status change events): completed, failed, timeout",
    uses: { tables: { runtime: RW } },
  },
  // --- segments (they live in the journeys table; delete-segment also reads the journey registry there)
  listSegments: {
    feature: 'segments',
    handler: 'list-segments',
    trigger: api('GET /segments'),
    summary: 'every segment, from files and the API',
    uses: { tables: { journeys: R } },
  },
  createSegment: {
    feature: 'segments',
    handler: 'create-segment',
    trigger: api('POST /segments', { body: true }),
    summary: 'creates a segment (references checked)',
    uses: { tables: { journeys: RW } },
  },
  getSegment: {
    feature: 'segments',
    handler: 'get-segment',
    trigger: api('GET /segments/{id}'),
    summary: 'a segment with its origin and version (ETag)',
    uses: { tables: { journeys: R } },
  },
  putSegment: {
    feature: 'segments',
    handler: 'put-segment',
    trigger: api('PUT /segments/{id}', { body: true }),
    summary: 'replaces an API-created segment (If-Match version)',
    uses: { tables: { journeys: RW } },
  },
  deleteSegment: {
    feature: 'segments',
    handler: 'delete-segment',
    trigger: api('DELETE /segments/{id}'),
    summary: 'deletes an API-created segment no segment or journey uses',
    uses: { tables: { journeys: RW } },
  },
  evaluateSegment: {
    feature: 'segments',
    handler: 'evaluate-segment',
    // No body: the snapshot is of the segment as stored. Writes the snapshot header (failed if the scan does not start).
    trigger: api('POST /segments/{id}/evaluate'),
    summary: 'starts an audience snapshot (audience-scan state machine)',
    uses: { tables: { journeys: R, runtime: RW }, audienceScan: 'start' },
  },
  getSegmentSnapshot: {
    feature: 'segments',
    handler: 'get-segment-snapshot',
    trigger: api('GET /segments/{id}/snapshots/{snapshotId}'),
    summary: 'a snapshot and a page of its members',
    uses: { tables: { runtime: R } },
  },
  estimateSegment: {
    feature: 'segments',
    handler: 'estimate-segment',
    trigger: api('GET /segments/{id}/estimate'),
    summary: 'the segment size estimated from a sample of profiles',
    // A sample Scan of the profiles table: up to API Gateway's 29 s integration timeout.
    uses: { tables: { journeys: R, profiles: R } },
    timeoutSeconds: 29,
    memoryMb: 1024,
  },
  scanProfiles: {
    feature: 'segments',
    handler: 'scan-profiles',
    trigger: { kind: 'audience-scan-step' },
    summary: 'Audience-scan step: one page of a parallel scan (snapshot members, time-based re-check), finish, fail',
    // One page (500 profiles) per invocation; a re-check page evaluates, announces and enters journeys per profile.
    uses: {
      tables: { profiles: RW, journeys: R, runtime: RW },
      bus: 'put',
      journeyRuns: { of: 'segment', actions: ['start', 'describe', 'stop'] },
    },
    timeoutSeconds: 300,
    memoryMb: 1024,
  },
  // --- decisioning: offers and placements in the journeys table (the catalog); caps and the decision log in runtime
  listOffers: {
    feature: 'decisioning',
    handler: 'list-offers',
    trigger: api('GET /offers'),
    summary: 'every offer, from files and the API',
    uses: { tables: { journeys: R } },
  },
  createOffer: {
    feature: 'decisioning',
    handler: 'create-offer',
    trigger: api('POST /offers', { body: true }),
    summary: 'creates an offer (checked against the placements)',
    uses: { tables: { journeys: RW } },
  },
  getOffer: {
    feature: 'decisioning',
    handler: 'get-offer',
    trigger: api('GET /offers/{id}'),
    summary: 'an offer with its origin and version (ETag)',
    uses: { tables: { journeys: R } },
  },
  putOffer: {
    feature: 'decisioning',
    handler: 'put-offer',
    trigger: api('PUT /offers/{id}', { body: true }),
    summary: 'replaces an API-created offer (If-Match version)',
    uses: { tables: { journeys: RW } },
  },
  deleteOffer: {
    feature: 'decisioning',
    handler: 'delete-offer',
    trigger: api('DELETE /offers/{id}'),
    summary: 'deletes an API-created offer',
    uses: { tables: { journeys: RW } },
  },
  listPlacements: {
    feature: 'decisioning',
    handler: 'list-placements',
    trigger: api('GET /placements'),
    summary: 'every placement, from files and the API',
    uses: { tables: { journeys: R } },
  },
  createPlacement: {
    feature: 'decisioning',
    handler: 'create-placement',
    trigger: api('POST /placements', { body: true }),
    summary: 'creates a placement',
    uses: { tables: { journeys: RW } },
  },
  getPlacement: {
    feature: 'decisioning',
    handler: 'get-placement',
    trigger: api('GET /placements/{id}'),
    summary: 'a placement with its origin and version (ETag)',
    uses: { tables: { journeys: R } },
  },
  putPlacement: {
    feature: 'decisioning',
    handler: 'put-placement',
    trigger: api('PUT /placements/{id}', { body: true }),
    summary: 'replaces an API-created placement (If-Match version; offers must still fit)',
    uses: { tables: { journeys: RW } },
  },
  deletePlacement: {
    feature: 'decisioning',
    handler: 'delete-placement',
    trigger: api('DELETE /placements/{id}'),
    summary: 'deletes an API-created placement no offer or journey uses',
    uses: { tables: { journeys: RW } },
  },
  decide: {
    feature: 'decisioning',
    handler: 'decide',
    trigger: api('POST /decisions', { body: true }),
    summary: 'the best offers per placement for a profile, with an explanation',
    uses: { tables: { profiles: R, journeys: R, runtime: RW } },
  },
  listDecisions: {
    feature: 'decisioning',
    handler: 'list-decisions',
    trigger: api('GET /profiles/{id}/decisions', { query: { limit: 'optional', cursor: 'optional' } }),
    summary: "a page of the profile's decisions, newest first",
    uses: { tables: { runtime: R } },
  },
  decideStep: {
    feature: 'decisioning',
    handler: 'decide-step',
    trigger: step('decide'),
    summary: 'Journey step: the decide node, the best offer for its placement',
    uses: { tables: { profiles: R, journeys: R, runtime: RW } },
  },
  // --- governance (rules live in the journeys table)
  listRules: {
    feature: 'governance',
    handler: 'list-rules',
    trigger: api('GET /rules'),
    summary: 'every governance rule, from files and the API',
    uses: { tables: { journeys: R } },
  },
  getRule: {
    feature: 'governance',
    handler: 'get-rule',
    trigger: api('GET /rules/{id}'),
    summary: 'a governance rule with its origin and version (ETag)',
    uses: { tables: { journeys: R } },
  },
  putRule: {
    feature: 'governance',
    handler: 'put-rule',
    trigger: api('PUT /rules/{id}', { body: true }),
    summary: 'creates or replaces an API rule (If-Match version); file rules are read-only',
    uses: { tables: { journeys: RW } },
  },
  deleteRule: {
    feature: 'governance',
    handler: 'delete-rule',
    trigger: api('DELETE /rules/{id}'),
    summary: 'deletes an API rule',
    uses: { tables: { journeys: RW } },
  },
  // --- campaigns (registry items in the journeys table; run records and counters in runtime)
  listCampaigns: {
    feature: 'campaigns',
    handler: 'list-campaigns',
    trigger: api('GET /campaigns'),
    summary: 'the deployed campaigns with their schedules',
    uses: { tables: { journeys: R } },
  },
  getCampaign: {
    feature: 'campaigns',
    handler: 'get-campaign',
    trigger: api('GET /campaigns/{id}'),
    summary: 'a campaign: definition, schedule with its next occurrence, live version, last runs',
    uses: { tables: { journeys: R, runtime: R }, campaignVersions: 'describe' },
  },
  startCampaignRun: {
    feature: 'campaigns',
    handler: 'start-campaign-run',
    trigger: api('POST /campaigns/{id}/runs', { body: true }),
    summary: 'starts a run (one execution of the campaign state machine); a dry run answers its figures when it ends in time',
    // A dry run is waited for up to 20 s: within API Gateway's 29 s integration timeout.
    uses: { tables: { journeys: R, runtime: RW }, campaignRuns: { actions: ['start', 'describe', 'stop'] } },
    timeoutSeconds: 29,
  },
  listCampaignRuns: {
    feature: 'campaigns',
    handler: 'list-campaign-runs',
    trigger: api('GET /campaigns/{id}/runs', { query: { limit: 'optional', cursor: 'optional' } }),
    summary: "a page of the campaign's runs, newest first",
    uses: { tables: { journeys: R, runtime: R } },
  },
  getCampaignRun: {
    feature: 'campaigns',
    handler: 'get-campaign-run',
    trigger: api('GET /campaigns/{id}/runs/{runId}'),
    summary: 'a run: status and counts per step',
    uses: { tables: { journeys: R, runtime: R } },
  },
  controlCampaignRun: {
    feature: 'campaigns',
    handler: 'control-campaign-run',
    trigger: api('POST /campaigns/{id}/runs/{runId}/{action}'),
    summary: 'pause, resume or cancel a run (conditional on its status; cancel stops its execution)',
    uses: { tables: { journeys: R, runtime: RW }, campaignRuns: { actions: ['describe', 'stop'] } },
  },
  campaignStep: {
    feature: 'campaigns',
    handler: 'campaign-step',
    trigger: { kind: 'campaign-step' },
    summary: "Campaign step: every Task of the campaigns' state machines (start, audience pages, compose, batches, group by time, finish)",
    // Audience pages scan profiles and read segments, exclusions read the ledger; runs, counters and the ledger are in
    // the runtime table; batches send (unsubscribe links, governance in the stage's zone), enter journeys and write
    // sets to the bucket. Up to a Lambda's 15 minutes: a paused or paced batch returns before that.
    uses: {
      tables: { profiles: R, journeys: R, runtime: RW },
      secrets: ['unsubscribe', 'privacyKey'],
      publicUrl: true,
      defaultTimeZone: true,
      journeyRuns: { of: 'all', actions: ['start', 'describe', 'stop'] },
      audienceBucket: RW,
      messages: 'send',
    },
    timeoutSeconds: 900,
    memoryMb: 1024,
  },
} as const satisfies Record<string, EntryPoint>;

export type EntryPointName = keyof typeof ENTRY_POINTS;
export type HandlerName = (typeof ENTRY_POINTS)[EntryPointName]['handler'];

/** Name → declaration, widened to `EntryPoint` (optional fields readable). */
export const entryPoints = (): [EntryPointName, EntryPoint][] => Object.entries(ENTRY_POINTS) as [EntryPointName, EntryPoint][];

/** The construct id of an entry point's function (`getProfile` → `GetProfile`). */
export const constructIdOf = (name: string): string => `${name[0].toUpperCase()}${name.slice(1)}`;

/** The function's console description: API entry points start with their route (`GET /profiles/{id}: …`). */
export const descriptionOf = (entry: EntryPoint): string => (entry.trigger.kind === 'api' ? `${entry.trigger.route}: ${entry.summary}` : entry.summary);

/** The API routes (`METHOD /path`) of the declared entry points, in declaration order. */
export const apiRoutes = (): string[] => entryPoints().flatMap(([, e]) => (e.trigger.kind === 'api' ? [e.trigger.route] : []));
