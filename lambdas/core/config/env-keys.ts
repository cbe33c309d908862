/** Environment variable names, defined once: the CDK constructs set them, the handlers read them (lambdas/shared/env.ts). */
export const EnvKey = {
  profilesTable: 'WAYMARK_PROFILES_TABLE',
  journeysTable: 'WAYMARK_JOURNEYS_TABLE',
  runtimeTable: 'WAYMARK_RUNTIME_TABLE',
  eventBusName: 'WAYMARK_EVENT_BUS_NAME',
  /** Secrets Manager secret (ARN) holding the HMAC key of unsubscribe links: prepare-send and unsubscribe-profile. */
  unsubscribeSecretArn: 'WAYMARK_UNSUBSCRIBE_SECRET_ARN',
  /**
   * Secrets Manager secret (ARN) holding the privacy key (lambdas/core/privacy/keys.ts): profile ids, suppression-list
   * keys, identity hashes of rejected events. Never rotated. Every function that creates profiles, checks or writes the
   * suppression list, rejects events or erases.
   */
  privacyKeySecretArn: 'WAYMARK_PRIVACY_KEY_SECRET_ARN',
  /** Base URL of the public API (where `/unsubscribe` is served), for the links in marketing email: prepare-send. */
  publicUrl: 'WAYMARK_PUBLIC_URL',
  /** The audience-scan state machine (batch segment evaluation and the scheduled re-check): evaluate-segment. */
  audienceScanStateMachineArn: 'WAYMARK_AUDIENCE_SCAN_STATE_MACHINE_ARN',
  /** The stage's `defaultTimezone` (lib/config.ts): quiet hours and calendar caps of profiles without a zone: prepare-send. */
  defaultTimeZone: 'WAYMARK_DEFAULT_TIME_ZONE',
  /** The campaign audience bucket (data stack): campaign-step and the campaign API. */
  audienceBucketName: 'WAYMARK_AUDIENCE_BUCKET_NAME',
  /**
   * ARN prefix of the stage's campaign state machines (`arn:…:stateMachine:waymark-<stage>_c-`; the registry item holds
   * each one's ARN): the campaign API, which starts and controls runs.
   */
  campaignStateMachinePrefix: 'WAYMARK_CAMPAIGN_STATE_MACHINE_PREFIX',
  /** What a function that sends messages itself needs (campaign-step's batches): the verified SES identity, ... */
  senderEmail: 'WAYMARK_SENDER_EMAIL',
  /** ... the stage's SES configuration set (events, reputation), ... */
  emailConfigurationSet: 'WAYMARK_EMAIL_CONFIGURATION_SET',
  /** ... and the End User Messaging (Pinpoint) application of push messages. */
  pushApplicationId: 'WAYMARK_PUSH_APPLICATION_ID',
  /** The stage's SMS origination identity and SMS configuration set: campaign-step's SMS (SendTextMessage). */
  smsOriginationIdentity: 'WAYMARK_SMS_ORIGINATION_IDENTITY',
  smsConfigurationSet: 'WAYMARK_SMS_CONFIGURATION_SET',
  /** The stage's `campaignControlGroupPercent` (0–100), when it sets one: campaign-step (audience pages). */
  campaignControlGroupPercent: 'WAYMARK_CAMPAIGN_CONTROL_GROUP_PERCENT',
} as const;
export type EnvKey = (typeof EnvKey)[keyof typeof EnvKey];

/** The variable of each table: a function gets only those of the tables it declares (lib/entry-points.ts). */
export const TableEnvKey = { profiles: EnvKey.profilesTable, journeys: EnvKey.journeysTable, runtime: EnvKey.runtimeTable } as const;
export type TableKey = keyof typeof TableEnvKey;

/** Table key layout shared by the CDK tables and the DynamoDB adapters. */
export const TableKeys = { partitionKey: 'pk', sortKey: 'sk', ttl: 'expiresAt' } as const;

/**
 * The runtime table's index of everything held about one profile (enrollments, runs, waits, ledger entries): partition
 * `profileId`, sort `pk`. Items without `profileId` (rejected events, suppressions) stay out of it. Used to erase and export.
 */
export const ProfileIndex = { name: 'byProfile', partitionKey: 'profileId', sortKey: 'pk' } as const;

/** Journeys table item attribute names (one item per journey, pk JOURNEYS, sk JOURNEY#<id>, written at deploy time; see journey/registry-item.ts). */
export const JourneyItem = {
  definition: 'definition',
  stateMachineArn: 'stateMachineArn',
  version: 'version',
  apiTriggered: 'apiTriggered',
  /** The `live` alias executions start on, and the version it points at (journey/registry-item.ts). */
  aliasArn: 'aliasArn',
  liveVersion: 'liveVersion',
  liveVersionArn: 'liveVersionArn',
  publishedAt: 'publishedAt',
} as const;

/** The `source` of events the platform itself emits; the router ignores them. */
export const PLATFORM_SOURCE_PREFIX = 'waymark.';

/** The `source` of events AWS services emit (e.g. `aws.ses` bounces); they have their own rules, and the router ignores them. */
export const AWS_SOURCE_PREFIX = 'aws.';
