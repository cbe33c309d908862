import { parseDuration } from '../shared/duration';
import { assertNever } from '../shared/assert-never';
import { toJsonPath } from '../shared/paths';
import { conditionPaths, toChoiceRule } from './condition';
import { stepKey } from './graph';
import type { ConditionNode, DecideNode, Journey, JourneyNode, SendNode, WaitForEventNode, WaitNode } from './schema';
import { ErrorName, Placeholder, Resource, ref, type AslDefinition, type AslState } from './asl';

const LAMBDA_RETRY = {
  ErrorEquals: ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException', 'States.TaskFailed'],
  IntervalSeconds: 1,
  MaxAttempts: 4,
  BackoffRate: 2,
  JitterStrategy: 'FULL',
};
const DELIVERY_RETRY = {
  ErrorEquals: ['SesV2.TooManyRequestsException', 'SesV2.LimitExceededException', 'Sns.ThrottledException', 'Pinpoint.TooManyRequestsException', 'States.Timeout'],
  IntervalSeconds: 2,
  MaxAttempts: 5,
  BackoffRate: 2,
  JitterStrategy: 'FULL',
};
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
      Retry: [{ ...LAMBDA_RETRY, ErrorEquals: LAMBDA_RETRY.ErrorEquals.filter((e) => e !== 'States.TaskFailed') }],
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

function deliveryState(node: SendNode, key: string, messageClass: Journey['settings']['messageClass']): AslState {
  const message = `$.steps.${key}.message`;
  const common = { Type: 'Task', ResultPath: `$.steps.${key}.delivery`, Retry: [DELIVERY_RETRY], Next: `${node.id}.record` };
  const catchFailure = [{ ErrorEquals: [ErrorName.all], ResultPath: `$.steps.${key}.error`, Next: `${node.id}.failed` }];
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
          EmailTags: [
            { Name: 'journey', 'Value.$': '$.journey.id' },
            { Name: 'node', Value: node.id },
            { Name: 'profile', 'Value.$': '$.profileId' },
            { Name: 'class', Value: messageClass },
          ],
        },
        ResultSelector: { 'messageId.$': '$.MessageId' },
        Catch: catchFailure,
      };
    }
    case 'sms':
      return {
        ...common,
        Comment: 'send the SMS with SNS',
        Resource: Resource.snsPublish,
        Parameters: {
          'PhoneNumber.$': `${message}.to`,
          'Message.$': `${message}.body`,
          MessageAttributes: {
            'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: messageClass === 'marketing' ? 'Promotional' : 'Transactional' },
          },
        },
        ResultSelector: { 'messageId.$': '$.MessageId' },
        Catch: catchFailure,
      };
    case 'push':
      return {
        ...common,
        Comment: 'send the push notification with End User Messaging (Pinpoint) push',
        Resource: Resource.pinpointSendMessages,
        // Pinpoint keys Addresses by the device token, so prepare-send builds the request.
        Parameters: { ApplicationId: ref(Placeholder.pushApplicationId), 'MessageRequest.$': `${message}.request` },
        ResultSelector: { 'messageId.$': '$.MessageResponse.RequestId' },
        Catch: catchFailure,
      };
    default:
      return assertNever(node, 'channel');
  }
}

function ledgerUpdate(node: SendNode, status: 'sent' | 'failed', values: Record<string, unknown>, next: string): AslState {
  const names = Object.keys(values);
  const key = stepKey(node.id);
  return {
    Type: 'Task',
    Comment: `mark the ledger entry ${status}`,
    Resource: Resource.dynamoUpdateItem,
    Parameters: {
      TableName: ref(Placeholder.runtimeTable),
      Key: { pk: { 'S.$': "States.Format('LEDGER#{}', $$.Execution.Id)" }, sk: { S: node.id } },
      UpdateExpression: `SET #status = :status${names.map((n) => `, #${n} = :${n}`).join('')}`,
      ExpressionAttributeNames: Object.fromEntries([['#status', 'status'], ...names.map((n) => [`#${n}`, n])]),
      ExpressionAttributeValues: Object.fromEntries([[':status', { S: status }], ...names.map((n) => [`:${n}`, values[n]])]),
    },
    // The rendered message has been delivered: the step's data shrinks to its outcome (the run keeps ids, not copies,
    // and stays within Step Functions' 256 KB; the ledger holds the rest).
    ResultSelector: { deliver: true, status },
    ResultPath: `$.steps.${key}`,
    Retry: [DYNAMO_RETRY],
    Next: next,
  };
}

function compileSend(node: SendNode, journey: Journey): Record<string, AslState> {
  const key = stepKey(node.id);
  return {
    [node.id]: {
      Type: 'Task',
      Comment: node.description ?? `render and check the ${node.channel} message`,
      ...lambdaStep(Placeholder.prepareSendFunction, node, { messageClass: journey.settings.messageClass }),
      ResultSelector: { 'deliver.$': '$.Payload.deliver', 'reason.$': '$.Payload.reason', 'message.$': '$.Payload.message' },
      ResultPath: `$.steps.${key}`,
      Next: `${node.id}.route`,
    },
    [`${node.id}.route`]: {
      Type: 'Choice',
      Comment: 'deliver unless suppressed or already sent',
      Choices: [{ Variable: `$.steps.${key}.deliver`, BooleanEquals: true, Next: `${node.id}.deliver` }],
      Default: node.next,
    },
    [`${node.id}.deliver`]: deliveryState(node, key, journey.settings.messageClass),
    [`${node.id}.record`]: ledgerUpdate(node, 'sent', { messageId: { 'S.$': `$.steps.${key}.delivery.messageId` } }, node.next),
    [`${node.id}.failed`]: ledgerUpdate(node, 'failed', { error: { 'S.$': `$.steps.${key}.error.Error` } }, node.next),
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
