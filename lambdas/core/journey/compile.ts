import { parseDuration } from '../shared/duration';
import { assertNever } from '../shared/assert-never';
import { toJsonPath } from '../shared/paths';
import { conditionPaths, toChoiceRule } from './condition';
import { stepKey } from './graph';
import type { ConditionNode, DecideNode, Journey, JourneyNode, SendNode, SplitNode, WaitForEventNode, WaitNode } from './schema';
import { HOLDOUT } from '../measure/assignment';
import { ErrorName, Placeholder, Resource, ref, type AslDefinition, type AslState } from './asl';
import { COUNTER, type CounterName } from '../measure/counters';
import { COUNTER_PREFIX, COUNTER_SHARDS, dimensionsPart } from '../measure/keys';

const LAMBDA_RETRY = {
  ErrorEquals: ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException', 'States.TaskFailed'],
  IntervalSeconds: 1,
  MaxAttempts: 4,
  BackoffRate: 2,
  JitterStrategy: 'FULL',
};
/**
 * Each integration's own error names, `<Service>.<Name>Exception` (the suffix added even where the API omits it:
 * `SesV2.MessageRejectedException`, `PinpointSmsVoiceV2.ThrottlingException`),
 * https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html.
 * `throttled`: refused before sending, so sent again. `rejected`: refused, nothing sent.
 * Anything else (a timeout, a 5xx, an unmodelled error) may have been delivered: its outcome is `unknown`.
 */
const named = (service: string, names: string[]) => names.map((name) => `${service}.${name}`);
export const PROVIDER_ERRORS: Record<SendNode['channel'], { throttled: string[]; rejected: string[] }> = {
  email: {
    throttled: ['SesV2.TooManyRequestsException'],
    rejected: named('SesV2', [
      'AccountSuspendedException',
      'BadRequestException',
      'LimitExceededException',
      'MailFromDomainNotVerifiedException',
      'MessageRejectedException',
      'NotFoundException',
      'SendingPausedException',
    ]),
  },
  // SendTextMessage's errors (https://docs.aws.amazon.com/pinpoint/latest/apireference_smsvoicev2/API_SendTextMessage.html),
  // prefixed `PinpointSmsVoiceV2` by the AWS SDK integration (supported-services-awssdk.html above). A refusal (access,
  // an opted-out or conflicting destination, a missing configuration set or identity, the spend limit, a bad request)
  // sent nothing; InternalServerException may come after the hand-off, so it stays unknown.
  sms: {
    throttled: ['PinpointSmsVoiceV2.ThrottlingException'],
    rejected: named('PinpointSmsVoiceV2', [
      'AccessDeniedException',
      'ConflictException',
      'ResourceNotFoundException',
      'ServiceQuotaExceededException',
      'ValidationException',
    ]),
  },
  push: {
    throttled: ['Pinpoint.TooManyRequestsException'],
    rejected: named('Pinpoint', ['BadRequestException', 'ForbiddenException', 'MethodNotAllowedException', 'NotFoundException', 'PayloadTooLargeException']),
  },
};
const DELIVERY_RETRY = { IntervalSeconds: 2, MaxAttempts: 5, BackoffRate: 2, JitterStrategy: 'FULL' };
/** A provider call that has not answered by then ends in States.Timeout: an unknown outcome, never sent again. */
const DELIVERY_TIMEOUT_SECONDS = 60;
/**
 * Pinpoint SendMessages answers 200 with a `DeliveryStatus` per address in `MessageResponse.Result`
 * (MessageResult: https://docs.aws.amazon.com/sdk-for-ruby/v2/api/Aws/Pinpoint/Types/MessageResult.html).
 * The push branch fails with `Pinpoint.<DeliveryStatus>` for any status but SUCCESSFUL: THROTTLED and
 * TEMPORARY_FAILURE were not delivered and are sent again; UNKNOWN_FAILURE and TIMEOUT may have been (unknown).
 */
export const PUSH_NOT_DELIVERED = {
  again: ['THROTTLED', 'TEMPORARY_FAILURE'],
  failed: ['PERMANENT_FAILURE', 'OPT_OUT', 'DUPLICATE'],
} as const;
const pushStatusError = (status: string) => `Pinpoint.${status}`;
/** The CloudWatch metric of delivery outcomes (namespace `${MetricsNamespace}`). */
export const DELIVERY_METRIC = 'Deliveries';

const DYNAMO_RETRY = {
  ErrorEquals: ['DynamoDB.ProvisionedThroughputExceededException', 'DynamoDB.ThrottlingException', 'DynamoDB.InternalServerErrorException', 'DynamoDB.RequestLimitExceeded'],
  IntervalSeconds: 1,
  MaxAttempts: 5,
  BackoffRate: 2,
  JitterStrategy: 'FULL',
};

function lambdaStep(functionRef: Placeholder, node: JourneyNode, extra: Record<string, unknown> = {}): Pick<AslState, 'Resource' | 'Parameters' | 'Retry'> {
  return {
    Resource: Resource.lambdaInvoke,
    Parameters: {
      FunctionName: ref(functionRef),
      Payload: { 'executionId.$': '$$.Execution.Id', 'state.$': '$', node, ...extra },
    },
    Retry: [LAMBDA_RETRY],
  };
}

function compileWait(node: WaitNode): Record<string, AslState> {
  if (node.duration !== undefined) {
    return { [node.id]: { Type: 'Wait', Comment: node.description ?? `wait ${node.duration}`, Seconds: parseDuration(node.duration), Next: node.next } };
  }
  const key = stepKey(node.id);
  return {
    [node.id]: {
      Type: 'Task',
      Comment: `resolve the time to wait until (${node.until})`,
      ...lambdaStep(Placeholder.resolveWaitFunction, node),
      ResultSelector: { 'until.$': '$.Payload.until' },
      ResultPath: `$.steps.${key}`,
      Next: `${node.id}.wait`,
    },
    [`${node.id}.wait`]: { Type: 'Wait', TimestampPath: `$.steps.${key}.until`, Next: node.next },
  };
}

function compileWaitForEvent(node: WaitForEventNode): Record<string, AslState> {
  const key = stepKey(node.id);
  return {
    [node.id]: {
      Type: 'Task',
      Comment: node.description ?? `wait for ${node.events.join(' or ')} (timeout ${node.timeout})`,
      Resource: Resource.lambdaInvokeWaitForToken,
      Parameters: {
        FunctionName: ref(Placeholder.registerWaitFunction),
        Payload: { 'token.$': '$$.Task.Token', 'executionId.$': '$$.Execution.Id', 'state.$': '$', node },
      },
      TimeoutSeconds: parseDuration(node.timeout),
      // A crashed register-wait is retried like any step (it rewrites the same index items under the new token). The
      // wait's timeout is its outcome, never retried: the first matching retrier applies, and MaxAttempts 0 never
      // retries (States.TaskFailed excludes States.Timeout on AWS; this says so to every runner):
      // https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
      Retry: [{ ErrorEquals: [ErrorName.timeout], MaxAttempts: 0 }, LAMBDA_RETRY],
      ResultPath: `$.steps.${key}`,
      Next: node.onEvent,
      Catch: [{ ErrorEquals: [ErrorName.timeout], ResultPath: `$.steps.${key}`, Next: node.onTimeout }],
    },
  };
}

function compileCondition(node: ConditionNode): Record<string, AslState> {
  const choice: AslState = {
    Type: 'Choice',
    Comment: node.description ?? `condition with ${node.branches.length} branch(es)`,
    Choices: node.branches.map((b) => ({ ...toChoiceRule(b.when), Next: b.next })),
    Default: node.default,
  };
  const readsProfile = node.branches.some((b) => conditionPaths(b.when).some((p) => p.startsWith('profile.')));
  if (!readsProfile) return { [node.id]: choice };
  // The profile may have changed since entry: read it again before deciding.
  return {
    [node.id]: {
      Type: 'Task',
      Comment: 'refresh the profile before the condition',
      ...lambdaStep(Placeholder.loadProfileFunction, node),
      // load-profile always returns `segments` (possibly empty): a selector on an absent field fails the state.
      ResultSelector: { 'id.$': '$.Payload.id', 'attributes.$': '$.Payload.attributes', 'identities.$': '$.Payload.identities', 'segments.$': '$.Payload.segments' },
      ResultPath: '$.profile',
      Next: `${node.id}.branch`,
    },
    [`${node.id}.branch`]: choice,
  };
}

/** The error names a delivery state sends to `<id>.failed`; everything else it catches goes to `<id>.unknown`. */
function rejectedErrors(channel: SendNode['channel']): string[] {
  const { throttled, rejected } = PROVIDER_ERRORS[channel];
  // Throttled after every retry: still nothing sent. States.Permissions: the role may not call the provider.
  const push = channel === 'push' ? [...PUSH_NOT_DELIVERED.again, ...PUSH_NOT_DELIVERED.failed].map(pushStatusError) : [];
  return [...throttled, ...rejected, ...push, 'States.Permissions'];
}

function deliveryState(node: SendNode, key: string, messageClass: Journey['settings']['messageClass']): AslState {
  const message = `$.steps.${key}.message`;
  const common = {
    Type: 'Task',
    TimeoutSeconds: DELIVERY_TIMEOUT_SECONDS,
    ResultPath: `$.steps.${key}.delivery`,
    Retry: [{ ErrorEquals: PROVIDER_ERRORS[node.channel].throttled, ...DELIVERY_RETRY }],
    Catch: [
      { ErrorEquals: rejectedErrors(node.channel), ResultPath: `$.steps.${key}.error`, Next: `${node.id}.failed` },
      { ErrorEquals: [ErrorName.all], ResultPath: `$.steps.${key}.error`, Next: `${node.id}.unknown` },
    ],
    Next: `${node.id}.record`,
  };
  switch (node.channel) {
    case 'email': {
      const body: Record<string, unknown> = { Text: { 'Data.$': `${message}.text`, Charset: 'UTF-8' } };
      if (node.template.html !== undefined) body.Html = { 'Data.$': `${message}.html`, Charset: 'UTF-8' };
      return {
        ...common,
        Comment: 'send the email with SES',
        Resource: Resource.sesSendEmail,
        Parameters: {
          FromEmailAddress: ref(Placeholder.senderEmail),
          Destination: { 'ToAddresses.$': `States.Array(${message}.to)` },
          Content: {
            Simple: {
              Subject: { 'Data.$': `${message}.subject`, Charset: 'UTF-8' },
              Body: body,
              // Marketing email carries the one-click unsubscribe headers (List-Unsubscribe, List-Unsubscribe-Post) made by prepare-send.
              ...(messageClass === 'marketing' ? { 'Headers.$': `${message}.headers` } : {}),
            },
          },
          ConfigurationSetName: ref(Placeholder.emailConfigurationSet),
          // journey, version, node, variant, execution, profile, class: made by prepare-send (core/engagement/tags.ts).
          'EmailTags.$': `${message}.tags`,
        },
        ResultSelector: { 'messageId.$': '$.MessageId' },
      };
    }
    case 'sms':
      return {
        ...common,
        Comment: 'send the SMS with End User Messaging SMS',
        Resource: Resource.smsSendTextMessage,
        Parameters: {
          'DestinationPhoneNumber.$': `${message}.to`,
          OriginationIdentity: ref(Placeholder.smsOriginationIdentity),
          'MessageBody.$': `${message}.body`,
          MessageType: messageClass === 'marketing' ? 'PROMOTIONAL' : 'TRANSACTIONAL',
          ConfigurationSetName: ref(Placeholder.smsConfigurationSet),
          // Comes back in the message's status events: journey, node, variant, execution (made by prepare-send,
          // lambdas/core/engagement/sms-events.ts) and the stage's configuration set, which the stage's rule matches.
          Context: {
            'journey.$': `${message}.context.journey`,
            'node.$': `${message}.context.node`,
            'variant.$': `${message}.context.variant`,
            'execution.$': `${message}.context.execution`,
            configurationSet: ref(Placeholder.smsConfigurationSet),
          },
        },
        ResultSelector: { 'messageId.$': '$.MessageId' },
      };
    case 'push':
      return pushDelivery(node, key, common);
    default:
      return assertNever(node, 'channel');
  }
}

/**
 * A push: SendMessages and the check of the address's DeliveryStatus, in one branch so that a status that was not
 * delivered (THROTTLED, TEMPORARY_FAILURE) is retried like a throttled call, and the others are caught by name.
 */
function pushDelivery(node: SendNode, key: string, common: AslState): AslState {
  const send = `${node.id}.send`;
  const status = '$.statuses[0]';
  const { Retry, TimeoutSeconds, ...outer } = common as AslState & { Retry: { ErrorEquals: string[] }[] };
  return {
    ...outer,
    Type: 'Parallel',
    Comment: 'send the push notification with End User Messaging (Pinpoint) push, and check its DeliveryStatus',
    Branches: [
      {
        StartAt: send,
        States: {
          [send]: {
            Type: 'Task',
            Resource: Resource.pinpointSendMessages,
            TimeoutSeconds,
            // Pinpoint keys Addresses by the device token, so prepare-send builds the request.
            Parameters: { ApplicationId: ref(Placeholder.pushApplicationId), 'MessageRequest.$': `$.steps.${key}.message.request` },
            // One address per request: `statuses` holds its DeliveryStatus (Result is keyed by the token, read by wildcard).
            ResultSelector: {
              'messageId.$': '$.MessageResponse.RequestId',
              'statuses.$': '$.MessageResponse.Result.*.DeliveryStatus',
            },
            Next: `${node.id}.status`,
          },
          [`${node.id}.status`]: {
            Type: 'Choice',
            Choices: [
              { Not: { Variable: status, IsPresent: true }, Next: `${node.id}.no-status` },
              { Variable: status, StringEquals: 'SUCCESSFUL', Next: `${node.id}.delivered` },
            ],
            Default: `${node.id}.not-delivered`,
          },
          [`${node.id}.delivered`]: { Type: 'Succeed' },
          [`${node.id}.not-delivered`]: {
            Type: 'Pass',
            Parameters: { 'error.$': `States.Format('${pushStatusError('{}')}', ${status})` },
            Next: `${node.id}.status-error`,
          },
          [`${node.id}.status-error`]: { Type: 'Fail', ErrorPath: '$.error', Cause: 'not delivered (DeliveryStatus)' },
          [`${node.id}.no-status`]: { Type: 'Fail', Error: 'Pinpoint.NoDeliveryStatus', Cause: 'no DeliveryStatus for the address' },
        },
      },
    ],
    ResultSelector: { 'messageId.$': '$[0].messageId' },
    Retry: [{ ...Retry[0], ErrorEquals: [...Retry[0].ErrorEquals, ...PUSH_NOT_DELIVERED.again.map(pushStatusError)] }],
  };
}

/** What the ledger says of a message the provider was asked to send. */
type DeliveryOutcome = 'sent' | 'failed' | 'unknown';

/** Where a delivery outcome is counted: `sent`, or `failed` with reason failed | unknown (lambdas/core/measure). */
const OUTCOME_COUNTER: Record<DeliveryOutcome, { name: CounterName; reason?: string }> = {
  sent: { name: COUNTER.sent },
  failed: { name: COUNTER.failed, reason: 'failed' },
  unknown: { name: COUNTER.failed, reason: 'unknown' },
};

/** The counter an outcome adds to, as `<name>#<dimensions>` (the sort key after the day; lambdas/core/measure/keys.ts). */
function outcomeCounter(node: SendNode, status: DeliveryOutcome): string {
  const { name, reason } = OUTCOME_COUNTER[status];
  // Node ids are kebab-case and the channel a word: the escaped dimensions hold no quote, brace or backslash.
  return `${name}#${dimensionsPart({ node: node.id, channel: node.channel, ...(reason ? { reason } : {}) })}`;
}

/**
 * Adds 1 to the outcome's journey counter (`$.steps.<key>.tally`, set by the ledger state that recorded it) on the item
 * DynamoJourneyCounters reads: a random shard, the run's entry day from $$.Execution.StartTime. Reached only after the
 * ledger's conditional transition, so a retried or redriven delivery never counts twice. Only throttling is retried
 * (not applied); any other failure skips the count, never the journey. States.MathRandom's end is inclusive or not:
 * either way the shard is one a report reads. One state per send node, to keep the definitions small.
 */
function outcomeTally(node: SendNode, key: string): AslState {
  return {
    Type: 'Task',
    Resource: Resource.dynamoUpdateItem,
    Parameters: {
      TableName: ref(Placeholder.runtimeTable),
      Key: {
        pk: { 'S.$': `States.Format('${COUNTER_PREFIX}{}#{}', $.journey.id, States.MathRandom(0, ${COUNTER_SHARDS - 1}))` },
        sk: { 'S.$': `States.Format('{}#{}', States.ArrayGetItem(States.StringSplit($$.Execution.StartTime, 'T'), 0), $.steps.${key}.tally)` },
      },
      UpdateExpression: 'ADD #v :one',
      ExpressionAttributeNames: { '#v': 'value' },
      ExpressionAttributeValues: { ':one': { N: '1' } },
    },
    ResultPath: null,
    Retry: [{ ...DYNAMO_RETRY, ErrorEquals: ['DynamoDB.ProvisionedThroughputExceededException', 'DynamoDB.ThrottlingException'] }],
    Catch: [{ ErrorEquals: [ErrorName.all], ResultPath: null, Next: `${node.id}.count` }],
    Next: `${node.id}.count`,
  };
}

function ledgerUpdate(node: SendNode, key: string, status: DeliveryOutcome, values: Record<string, unknown>): AslState {
  const names = Object.keys(values);
  return {
    Type: 'Task',
    Comment: `mark the ledger entry ${status}`,
    Resource: Resource.dynamoUpdateItem,
    Parameters: {
      TableName: ref(Placeholder.runtimeTable),
      Key: { pk: { 'S.$': "States.Format('LEDGER#{}', $$.Execution.Id)" }, sk: { S: node.id } },
      UpdateExpression: `SET #status = :status${names.map((n) => `, #${n} = :${n}`).join('')}`,
      // Only the transition out of `prepared` counts; a repeat (a retry whose first try was applied, a redrive) or an
      // entry erased meanwhile fails the condition and goes on without counting or recreating it.
      ConditionExpression: '#status = :prepared',
      ExpressionAttributeNames: Object.fromEntries([['#status', 'status'], ...names.map((n) => [`#${n}`, n])]),
      ExpressionAttributeValues: Object.fromEntries([[':status', { S: status }], [':prepared', { S: 'prepared' }], ...names.map((n) => [`:${n}`, values[n]])]),
    },
    // The rendered message has been delivered: the step's data shrinks to its outcome, which the metric state counts (the run keeps ids, not copies,
    // and stays within Step Functions' 256 KB; the ledger holds the rest).
    ResultSelector: { deliver: true, status, tally: outcomeCounter(node, status) },
    ResultPath: `$.steps.${key}`,
    Retry: [DYNAMO_RETRY],
    // The error replaces the rendered message in the run's data, as the outcome would have.
    Catch: [{ ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'], ResultPath: `$.steps.${key}`, Next: node.next }],
    Next: `${node.id}.tally`,
  };
}

/**
 * Counts the outcome (metric `Deliveries`, dimensions Outcome and Channel+Outcome) for the failure-rate alarm, and per
 * journey (Journey+Outcome, Journey+Node+Outcome) for the dashboard: one request, so no more PutMetricData calls.
 * A failed count does not stop the journey; a retried one may count twice, which the rate tolerates better than none.
 */
function deliveryMetric(node: SendNode, key: string, journeyId: string): AslState {
  const outcome = `$.steps.${key}.status`;
  const journey = { Name: 'Journey', Value: journeyId };
  const perJourney = [[journey], [journey, { Name: 'Node', Value: node.id }]].map((dims) => ({
    MetricName: DELIVERY_METRIC,
    Dimensions: [...dims, { Name: 'Outcome', 'Value.$': outcome }],
    Unit: 'Count',
    Value: 1,
  }));
  return {
    Type: 'Task',
    Comment: 'count the delivery outcome',
    Resource: Resource.cloudWatchPutMetricData,
    Parameters: {
      Namespace: ref(Placeholder.metricsNamespace),
      MetricData: [
        { MetricName: DELIVERY_METRIC, Dimensions: [{ Name: 'Outcome', 'Value.$': outcome }], Unit: 'Count', Value: 1 },
        {
          MetricName: DELIVERY_METRIC,
          Dimensions: [{ Name: 'Channel', Value: node.channel }, { Name: 'Outcome', 'Value.$': outcome }],
          Unit: 'Count',
          Value: 1,
        },
        ...perJourney,
      ],
    },
    ResultPath: null,
    Retry: [{ ErrorEquals: [ErrorName.all], IntervalSeconds: 1, MaxAttempts: 2, BackoffRate: 2, JitterStrategy: 'FULL' }],
    Catch: [{ ErrorEquals: [ErrorName.all], ResultPath: null, Next: node.next }],
    Next: node.next,
  };
}

/** What prepare-send needs of the journey for governance rules: message class, priority and tags. */
function governedPayload(journey: Journey): Record<string, unknown> {
  const { messageClass, priority, tags } = journey.settings;
  const settings = { ...(priority === undefined ? {} : { priority }), ...(tags === undefined ? {} : { tags }) };
  return { messageClass, ...(Object.keys(settings).length === 0 ? {} : { settings }) };
}

/**
 * Quiet hours and frequency caps (lambdas/core/governance/README.md): a deferred message waits until the window opens
 * (a real Wait on the computed time) and the send step checks it again; a failed delivery releases its cap slot (a
 * failed release leaves the slot taken and the run goes on).
 */
function governanceStates(node: SendNode, key: string): Record<string, AslState> {
  return {
    [`${node.id}.defer`]: { Type: 'Wait', TimestampPath: `$.steps.${key}.deferUntil`, Next: node.id },
    // Ids only (not the node and the run's data), no retry: one of these per send node adds little to the definition
    // (the app stack's template stays under CDK's size warning), and a failed release only keeps a slot taken.
    [`${node.id}.release`]: {
      Type: 'Task',
      Resource: Resource.lambdaInvoke,
      Parameters: {
        FunctionName: ref(Placeholder.prepareSendFunction),
        Payload: { release: true, 'executionId.$': '$$.Execution.Id', 'profileId.$': '$.profileId', nodeId: node.id },
      },
      ResultPath: null,
      Catch: [{ ErrorEquals: [ErrorName.all], ResultPath: null, Next: `${node.id}.tally` }],
      Next: `${node.id}.tally`,
    },
  };
}

function compileSend(node: SendNode, journey: Journey): Record<string, AslState> {
  const key = stepKey(node.id);
  const error = { error: { 'S.$': `$.steps.${key}.error.Error` } };
  return {
    [node.id]: {
      Type: 'Task',
      Comment: node.description ?? `render and check the ${node.channel} message`,
      ...lambdaStep(Placeholder.prepareSendFunction, node, { ...governedPayload(journey), 'startedAt.$': '$$.Execution.StartTime' }),
      ResultSelector: {
        'deliver.$': '$.Payload.deliver',
        'reason.$': '$.Payload.reason',
        'message.$': '$.Payload.message',
        'deferUntil.$': '$.Payload.deferUntil',
        'deferredSince.$': '$.Payload.deferredSince',
      },
      ResultPath: `$.steps.${key}`,
      Next: `${node.id}.route`,
    },
    [`${node.id}.route`]: {
      Type: 'Choice',
      Comment: 'deliver unless suppressed or already sent',
      Choices: [
        { Variable: `$.steps.${key}.deliver`, BooleanEquals: true, Next: `${node.id}.deliver` },
        { Variable: `$.steps.${key}.deferUntil`, IsString: true, Next: `${node.id}.defer` },
      ],
      Default: node.next,
    },
    ...governanceStates(node, key),
    [`${node.id}.deliver`]: deliveryState(node, key, journey.settings.messageClass),
    [`${node.id}.record`]: ledgerUpdate(node, key, 'sent', { messageId: { 'S.$': `$.steps.${key}.delivery.messageId` } }),
    // Nothing went out: the message's frequency-cap slot is given back (`.release`) before the outcome is tallied.
    [`${node.id}.failed`]: { ...ledgerUpdate(node, key, 'failed', error), Next: `${node.id}.release` },
    // May have been delivered (a timeout, a provider error after the request): never sent again, never called failed.
    [`${node.id}.unknown`]: ledgerUpdate(node, key, 'unknown', error),
    [`${node.id}.tally`]: outcomeTally(node, key),
    [`${node.id}.count`]: deliveryMetric(node, key, journey.id),
  };
}

function compileDecide(node: DecideNode): Record<string, AslState> {
  const key = stepKey(node.id);
  const task: AslState = {
    Type: 'Task',
    Comment: node.description ?? `decide the best offer for ${node.placement}`,
    ...lambdaStep(Placeholder.decideFunction, node),
    ResultSelector: { 'decisionId.$': '$.Payload.decisionId', 'offer.$': '$.Payload.offer', 'offers.$': '$.Payload.offers', 'fallback.$': '$.Payload.fallback' },
    ResultPath: `$.steps.${key}`,
    Next: node.onNoOffer === undefined ? node.next : `${node.id}.branch`,
  };
  if (node.onNoOffer === undefined) return { [node.id]: task };
  return {
    [node.id]: task,
    [`${node.id}.branch`]: {
      Type: 'Choice',
      Comment: 'an offer, or none',
      Choices: [{ Variable: `$.steps.${key}.offer`, IsNull: true, Next: node.onNoOffer }],
      Default: node.next,
    },
  };
}

/**
 * A split in plain ASL: the run's variant of this node was decided when it entered (a hash of profile, journey and node:
 * lambdas/core/measure/assignment.ts) and travels in its data at `variants.<key>`. Intrinsics cannot do that here:
 * none turns a hash into a number, and States.MathRandom's seeded sequence is the runner's own (another locally), see
 * https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html. The Pass keeps it at `$.variant` (the
 * last split passed: message tags read it); the holdout ends the run here, so it gets no message from this node on.
 */
function compileSplit(node: SplitNode): Record<string, AslState> {
  const variant = '$.variant';
  return {
    [node.id]: {
      Type: 'Pass',
      Comment: node.description ?? `split: ${node.variants.map((v) => `${v.id} ${v.weight}%`).join(', ')}${node.holdout ? `, holdout ${node.holdout.weight}%` : ''}`,
      InputPath: `$.variants.${stepKey(node.id)}`,
      ResultPath: variant,
      Next: `${node.id}.branch`,
    },
    [`${node.id}.branch`]: {
      Type: 'Choice',
      Comment: 'the variant assigned at entry',
      Choices: [
        ...node.variants.map((v) => ({ Variable: variant, StringEquals: v.id, Next: v.next })),
        ...(node.holdout ? [{ Variable: variant, StringEquals: HOLDOUT, Next: `${node.id}.holdout` }] : []),
      ],
      // Not taken: every run carries a variant of each split of its version from its entry (asl.ts ExecutionInput).
      Default: node.variants[0].next,
    },
    ...(node.holdout ? { [`${node.id}.holdout`]: { Type: 'Succeed', Comment: 'the split\'s holdout: no message from here on' } } : {}),
  };
}

function compileNode(node: JourneyNode, journey: Journey): Record<string, AslState> {
  switch (node.kind) {
    case 'wait':
      return compileWait(node);
    case 'wait-for-event':
      return compileWaitForEvent(node);
    case 'condition':
      return compileCondition(node);
    case 'send':
      return compileSend(node, journey);
    case 'decide':
      return compileDecide(node);
    case 'split':
      return compileSplit(node);
    case 'exit':
      return { [node.id]: { Type: 'Succeed', Comment: node.description ?? 'journey ends' } };
    default:
      return assertNever(node, 'node');
  }
}

/**
 * Compiles a validated journey to a Standard state machine in the JSONPath dialect of ASL.
 * Deterministic: the same journey always gives the same definition (its hash is the journey's version).
 */
export function compileJourney(journey: Journey): AslDefinition {
  const states: Record<string, AslState> = {};
  for (const node of journey.nodes) Object.assign(states, compileNode(node, journey));
  return {
    Comment: `Waymark journey ${journey.id}: ${journey.name}`,
    StartAt: journey.start,
    TimeoutSeconds: parseDuration(journey.settings.timeout),
    States: states,
  };
}

/** JSONPath for a data path, re-exported for the diagram and tests. */
export { toJsonPath };
