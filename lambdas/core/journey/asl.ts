/**
 * The contract between compiled journeys and the infrastructure that runs them. Compiled ASL refers to
 * functions, tables and settings through `${Name}` placeholders: CDK fills them with `definitionSubstitutions`,
 * the local stack with local bindings, so both run the same definition.
 */
export const Placeholder = {
  prepareSendFunction: 'PrepareSendFunctionArn',
  registerWaitFunction: 'RegisterWaitFunctionArn',
  resolveWaitFunction: 'ResolveWaitFunctionArn',
  loadProfileFunction: 'LoadProfileFunctionArn',
  decideFunction: 'DecideFunctionArn',
  scanProfilesFunction: 'ScanProfilesFunctionArn',
  /** Every Lambda step of a campaign's state machine (lambdas/core/campaigns/contract.ts). */
  campaignStepFunction: 'CampaignStepFunctionArn',
  /** The campaign audience bucket (data stack; s3rver locally). */
  audienceBucket: 'AudienceBucketName',
  runtimeTable: 'RuntimeTableName',
  senderEmail: 'SenderEmail',
  emailConfigurationSet: 'EmailConfigurationSet',
  pushApplicationId: 'PushApplicationId',
  /** The stage's End User Messaging SMS configuration set (its name is in every SMS's context: the stage rule matches it). */
  smsConfigurationSet: 'SmsConfigurationSet',
  /** The phone number, pool, sender ID (id or ARN) SMS are sent from (lib/config.ts `smsOriginationIdentity`). */
  smsOriginationIdentity: 'SmsOriginationIdentity',
  /** CloudWatch namespace of the delivery outcome metrics (one per stage, so each stage's alarm reads its own). */
  metricsNamespace: 'MetricsNamespace',
} as const;
export type Placeholder = (typeof Placeholder)[keyof typeof Placeholder];

export const ref = (name: Placeholder): string => `\${${name}}`;

/** Step Functions resources the compiler uses; the local runtime binds each to local code. */
export const Resource = {
  lambdaInvoke: 'arn:aws:states:::lambda:invoke',
  lambdaInvokeWaitForToken: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
  sesSendEmail: 'arn:aws:states:::aws-sdk:sesv2:sendEmail',
  /** End User Messaging SMS (sms-voice v2) through the AWS SDK integration (service `pinpointsmsvoicev2`). */
  smsSendTextMessage: 'arn:aws:states:::aws-sdk:pinpointsmsvoicev2:sendTextMessage',
  pinpointSendMessages: 'arn:aws:states:::aws-sdk:pinpoint:sendMessages',
  dynamoUpdateItem: 'arn:aws:states:::dynamodb:updateItem',
  cloudWatchPutMetricData: 'arn:aws:states:::aws-sdk:cloudwatch:putMetricData',
} as const;

export type AslState = Record<string, unknown> & { Type: string };
export interface AslDefinition {
  Comment: string;
  StartAt: string;
  TimeoutSeconds: number;
  States: Record<string, AslState>;
}

/** The input every journey execution starts with. */
export interface ExecutionInput {
  journey: { id: string; version: string };
  profileId: string;
  /** `segments`: membership key (segment id with `-` as `_`) → when the profile entered it. */
  profile: { id: string; attributes: Record<string, unknown>; identities: Record<string, string>; segments?: Record<string, string> };
  event: unknown;
  context: Record<string, unknown>;
  steps: Record<string, unknown>;
  /** In the journey's holdout (`settings.holdout`): every send step suppresses its message (reason `holdout`). */
  holdout?: boolean;
  /** The run's variant of each split node (key: node id with `-` as `_`), decided at entry; absent without splits. */
  variants?: Record<string, string>;
  /** The variant of the last split the run passed (set by the split's Pass state). */
  variant?: string;
}

/** The payload every Lambda step of a journey receives (`state` is the whole execution document). */
export interface StepPayload<TNode = unknown> {
  executionId: string;
  state: ExecutionInput;
  node: TNode;
  /** Only for wait-for-event: the task token to resume with. */
  token?: string;
}

/** Error names a journey's states react to. */
export const ErrorName = {
  timeout: 'States.Timeout',
  all: 'States.ALL',
} as const;
