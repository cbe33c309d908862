import { StateMachine } from 'aws-local-stepfunctions';
import { compileJourney, Placeholder, Resource, type AslDefinition, type AslState } from '../../../lambdas/core/journey';
import { baseJourney, mustValidate } from './fixtures';

type Channel = 'email' | 'sms' | 'push';
const TEMPLATES: Record<Channel, Record<string, string>> = {
  email: { subject: 'Hi', text: 'Hello' },
  sms: { body: 'Hello' },
  push: { title: 'Hi', body: 'Hello' },
};

/** One send node then the end: the states of one delivery and nothing else. */
function sendJourney(channel: Channel): AslDefinition {
  return compileJourney(
    mustValidate({
      ...baseJourney(),
      start: 'hello',
      nodes: [
        { id: 'hello', kind: 'send', channel, template: TEMPLATES[channel], next: 'done' },
        { id: 'done', kind: 'exit' },
      ],
    }),
  );
}

const state = (asl: AslDefinition, name: string): AslState => {
  const found = asl.States[name];
  if (!found) throw new Error(`no state "${name}" in ${Object.keys(asl.States).join(', ')}`);
  return found;
};

const errorsOf = (rules: unknown) => ((rules ?? []) as { ErrorEquals: string[] }[]).flatMap((r) => r.ErrorEquals);

/** A provider answer: a value to return or the name of an error to raise. */
type Answer = { error: string } | { deliveryStatus: string } | { ok: true };

/**
 * Runs the compiled definition with each Task bound by Resource: prepare-send says deliver, the provider answers
 * the scripted `answers` in turn, the ledger update and the metric are recorded.
 */
async function deliver(channel: Channel, answers: Answer[], options: { ledgerAlreadyMoved?: boolean } = {}) {
  const asl = sendJourney(channel);
  const ledger: { status: string; values: Record<string, unknown> }[] = [];
  const tallies: { pk: string; sk: string }[] = [];
  const metrics: unknown[] = [];
  const releases: unknown[] = [];
  let calls = 0;
  const provider = async () => {
    const answer = answers[Math.min(calls, answers.length - 1)];
    calls += 1;
    if ('error' in answer) throw Object.assign(new Error(`provider says ${answer.error}`), { name: answer.error });
    if (channel === 'push') {
      const status = 'deliveryStatus' in answer ? answer.deliveryStatus : 'SUCCESSFUL';
      return { MessageResponse: { ApplicationId: 'app', RequestId: `req-${calls}`, Result: { 'device-token': { DeliveryStatus: status, StatusCode: 200, MessageId: `m-${calls}` } } } };
    }
    return { MessageId: `m-${calls}` };
  };
  const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  // Overrides are keyed by state name, the states of a Parallel branch included.
  const states = Object.entries(asl.States).flatMap(([name, s]) => [
    [name, s] as const,
    ...((s.Branches as AslDefinition[] | undefined) ?? []).flatMap((b) => Object.entries(b.States)),
  ]);
  for (const [name, s] of states) {
    if (s.Type !== 'Task') continue;
    switch (s.Resource) {
      case Resource.lambdaInvoke:
        handlers[name] = async (input) => ({
          ...((input as { Payload?: { release?: boolean } }).Payload?.release ? void releases.push(name) : {}),
          Payload: {
            ...{ deliver: true, reason: null, deferUntil: null, deferredSince: null },
            message: {
              ...{ channel, to: 'device-token', subject: 'Hi', text: 'Hello', body: 'Hello', headers: [], tags: [], request: {} },
              context: { journey: 'base', node: 'hello', variant: 'none', execution: 'base--0' },
            },
          },
        });
        break;
      case Resource.dynamoUpdateItem:
        handlers[name] = async (params) => {
          const p = params as { UpdateExpression: string; Key: { pk: { S: string }; sk: { S: string } }; ExpressionAttributeValues: Record<string, { S: string }> };
          if (p.UpdateExpression.startsWith('ADD ')) {
            tallies.push({ pk: p.Key.pk.S, sk: p.Key.sk.S });
            return {};
          }
          if (options.ledgerAlreadyMoved) throw Object.assign(new Error('The conditional request failed'), { name: 'DynamoDB.ConditionalCheckFailedException' });
          const { ':status': status, ':prepared': _prepared, ...values } = p.ExpressionAttributeValues;
          ledger.push({ status: status.S, values });
          return {};
        };
        break;
      case Resource.cloudWatchPutMetricData:
        handlers[name] = async (params) => (metrics.push(params), {});
        break;
      default:
        handlers[name] = provider;
    }
  }
  // aws-local-stepfunctions stamps StartTime with the real clock: the run's start time comes from a field of our own.
  const text = JSON.stringify(asl).replaceAll('$$.Execution.StartTime', () => '$$.Execution.FixedStartTime').replace(/\$\{(\w+)\}/g, (_whole, name: string) => (name === Placeholder.metricsNamespace ? 'Waymark/test' : `local-${name}`));
  const machine = new StateMachine(JSON.parse(text), { validationOptions: { checkArn: false, checkPaths: false } });
  const retryIntervalOverrides = Object.fromEntries(states.map(([name]) => [name, 0]));
  const run = machine.run(
    { journey: { id: 'base', version: 'v1' }, profileId: 'p1', profile: { id: 'p1', attributes: {}, identities: {} }, event: null, context: {}, steps: {} } as never,
    {
      overrides: { taskResourceLocalHandlers: handlers as never, retryIntervalOverrides },
      context: { Execution: { Id: 'arn:aws:states:local:0:execution:base:run-1', FixedStartTime: '2026-11-30T23:59:59.000Z' } } as never,
    },
  );
  const output = await run.result;
  return { ledger, metrics, calls, tallies, releases, output: output as { steps: Record<string, unknown> } };
}

describe('delivery states', () => {
  it.each<[string, Answer[], string]>([
    ['sent', [{ ok: true }], '2026-11-30#sent#channel=email&node=hello'],
    ['failed', [{ error: 'SesV2.MessageRejectedException' }], '2026-11-30#failed#channel=email&node=hello&reason=failed'],
    ['unknown', [{ error: 'States.Timeout' }], '2026-11-30#failed#channel=email&node=hello&reason=unknown'],
  ])('counts a %s email once, on a random shard, by the run\'s entry day', async (_what, answers, sk) => {
    const { tallies } = await deliver('email', answers);
    expect(tallies).toEqual([{ pk: expect.stringMatching(/^COUNTER#base#([0-9]|1[0-5])$/), sk }]);
  });

  it('counts nothing and goes on when the ledger entry had already moved out of prepared (a repeat)', async () => {
    const { tallies, metrics, ledger, output } = await deliver('email', [{ ok: true }], { ledgerAlreadyMoved: true });
    expect(tallies).toEqual([]);
    expect(metrics).toEqual([]);
    expect(ledger).toEqual([]);
    // The rendered message leaves the run's data all the same.
    expect(JSON.stringify(output.steps)).not.toContain('Hello');
  });

  it.each<[Channel, string[]]>([
    ['email', ['SesV2.TooManyRequestsException']],
    ['sms', ['PinpointSmsVoiceV2.ThrottlingException']],
    ['push', ['Pinpoint.TooManyRequestsException', 'Pinpoint.THROTTLED', 'Pinpoint.TEMPORARY_FAILURE']],
  ])('retries %s only on the throttling errors its integration raises', (channel, errors) => {
    expect(errorsOf(state(sendJourney(channel), 'hello.deliver').Retry)).toEqual(errors);
  });

  it.each<Channel>(['email', 'sms', 'push'])('never retries a %s send that timed out (it may have been delivered)', (channel) => {
    expect(errorsOf(state(sendJourney(channel), 'hello.deliver').Retry)).not.toContain('States.Timeout');
  });

  it.each<[Channel, string]>([
    ['email', 'SesV2.MessageRejectedException'],
    ['sms', 'PinpointSmsVoiceV2.ValidationException'],
    ['push', 'Pinpoint.BadRequestException'],
  ])('records a %s the provider rejected (%s) as failed, gives its cap slot back and counts it', async (channel, error) => {
    const { ledger, metrics, calls, releases } = await deliver(channel, [{ error }]);
    expect(calls).toBe(1);
    expect(releases).toEqual(['hello.release']);
    expect(ledger).toEqual([{ status: 'failed', values: { ':error': { S: error } } }]);
    expect(JSON.stringify(metrics)).toContain('"Value":"failed"');
  });

  it.each<[Channel, string]>([
    ['email', 'States.Timeout'],
    ['sms', 'PinpointSmsVoiceV2.InternalServerException'],
    ['push', 'Pinpoint.InternalServerErrorException'],
  ])('records a %s whose outcome is not known (%s) as unknown, sent once, not failed', async (channel, error) => {
    const { ledger, metrics, calls } = await deliver(channel, [{ error }]);
    expect(calls).toBe(1);
    expect(ledger).toEqual([{ status: 'unknown', values: { ':error': { S: error } } }]);
    expect(JSON.stringify(metrics)).toContain('"Value":"unknown"');
  });

  it.each<[Channel, string]>([
    ['email', 'SesV2.TooManyRequestsException'],
    ['sms', 'PinpointSmsVoiceV2.ThrottlingException'],
    ['push', 'Pinpoint.TooManyRequestsException'],
  ])('sends a %s again after %s and records it sent', async (channel, error) => {
    const { ledger, calls } = await deliver(channel, [{ error }, { error }, { ok: true }]);
    expect(calls).toBe(3);
    expect(ledger.map((l) => l.status)).toEqual(['sent']);
  });

  it('counts every outcome by channel, in total, per journey and per journey node, in the configured namespace', async () => {
    const { metrics } = await deliver('sms', [{ ok: true }]);
    const journey = { Name: 'Journey', Value: 'base' };
    const sent = { Name: 'Outcome', Value: 'sent' };
    expect(metrics).toEqual([
      {
        Namespace: 'Waymark/test',
        MetricData: [
          { MetricName: 'Deliveries', Dimensions: [sent], Unit: 'Count', Value: 1 },
          { MetricName: 'Deliveries', Dimensions: [{ Name: 'Channel', Value: 'sms' }, sent], Unit: 'Count', Value: 1 },
          { MetricName: 'Deliveries', Dimensions: [journey, sent], Unit: 'Count', Value: 1 },
          { MetricName: 'Deliveries', Dimensions: [journey, { Name: 'Node', Value: 'hello' }, sent], Unit: 'Count', Value: 1 },
        ],
      },
    ]);
  });

  it('counts a failure per journey node too', async () => {
    const { metrics } = await deliver('sms', [{ error: 'PinpointSmsVoiceV2.ConflictException' }]);
    const data = (metrics[0] as { MetricData: { Dimensions: unknown[] }[] }).MetricData;
    expect(data[3].Dimensions).toEqual([{ Name: 'Journey', Value: 'base' }, { Name: 'Node', Value: 'hello' }, { Name: 'Outcome', Value: 'failed' }]);
  });

  describe('push (Pinpoint answers 200 with a status per address)', () => {
    it('records SUCCESSFUL as sent', async () => {
      const { ledger } = await deliver('push', [{ deliveryStatus: 'SUCCESSFUL' }]);
      expect(ledger).toEqual([{ status: 'sent', values: { ':messageId': { S: 'req-1' } } }]);
    });

    it.each(['PERMANENT_FAILURE', 'OPT_OUT', 'DUPLICATE'])('records %s as failed, sent once', async (status) => {
      const { ledger, metrics, calls } = await deliver('push', [{ deliveryStatus: status }]);
      expect(calls).toBe(1);
      expect(ledger).toEqual([{ status: 'failed', values: { ':error': { S: `Pinpoint.${status}` } } }]);
      expect(JSON.stringify(metrics)).toContain('"Value":"failed"');
    });

    it.each(['UNKNOWN_FAILURE', 'TIMEOUT'])('records %s as unknown, sent once', async (status) => {
      const { ledger, calls } = await deliver('push', [{ deliveryStatus: status }]);
      expect(calls).toBe(1);
      expect(ledger).toEqual([{ status: 'unknown', values: { ':error': { S: `Pinpoint.${status}` } } }]);
    });

    it.each(['THROTTLED', 'TEMPORARY_FAILURE'])('sends again after %s and records the later success as sent', async (status) => {
      const { ledger, calls } = await deliver('push', [{ deliveryStatus: status }, { deliveryStatus: 'SUCCESSFUL' }]);
      expect(calls).toBe(2);
      expect(ledger.map((l) => l.status)).toEqual(['sent']);
    });

    it('gives up on a push still THROTTLED after its retries and records it failed', async () => {
      const retries = (state(sendJourney('push'), 'hello.deliver').Retry as { MaxAttempts: number }[])[0].MaxAttempts;
      const { ledger, calls } = await deliver('push', [{ deliveryStatus: 'THROTTLED' }]);
      expect(calls).toBe(1 + retries);
      expect(ledger).toEqual([{ status: 'failed', values: { ':error': { S: 'Pinpoint.THROTTLED' } } }]);
    });
  });
});
