import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { nudge } from './nudge-journey';
import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import { loadJourneyDir } from '../../lambdas/local/stack';
import { ledgerEntry } from './consent-support';
import { call } from './http';
import { openVirtualStack } from './local-stack';

const email = (n: number) => `faults${n}@example.com`;
const profileOf = (n: number) => newProfileId('email', email(n));
const iso = (ms: number) => new Date(ms).toISOString();
/** The Retry intervals the virtual clock waits (IntervalSeconds x BackoffRate^n, no jitter), in ms. */
const DELIVERY_RETRIES = [2000, 4000];
const LEDGER_RETRIES = [1000, 2000];


/**
 * Provider faults on the local stack (injected in the outbox), through the compiled ASL of manual-outreach, on a
 * virtual clock: a retried call waits its intervals, so each test says when the message went out and the run ended.
 */
describe('delivery faults', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    const playbooks = loadJourneyDir(join(__dirname, '..', '..', 'statemachines'));
    ctx = await openVirtualStack({ journeys: [...playbooks, ...nudge] });
  });
  afterAll(() => ctx.stack.stop());

  /** The profile's one run of the journey, ended `after` ms from now (its retry intervals) and running 1 ms before. */
  const endsAfter = async (journeyId: string, n: number, after: number) => {
    const runs = () => ctx.stack.executions.list({ journeyId, profileId: profileOf(n) });
    const at = ctx.clock.nowMs() + after;
    if (after > 0) {
      await ctx.clock.advanceTo(at - 1);
      expect(runs().map((r) => r.status)).toEqual(['RUNNING']);
      await ctx.clock.advanceTo(at);
    }
    expect(runs()).toHaveLength(1);
    expect(runs()[0]).toMatchObject({ status: expect.not.stringMatching(/^RUNNING$/), stopDate: iso(at) });
    return runs()[0];
  };
  const outreach = async (n: number, context: Record<string, unknown>, after = 0) => {
    const reply = await call(ctx.stack, 'POST', '/journeys/manual-outreach/trigger', { identities: { email: email(n), phone: `+4917000009${n}` }, context });
    expect(reply.status).toBe(202);
    await ctx.stack.settle();
    return endsAfter('manual-outreach', n, after);
  };
  const times = (n: number) => ctx.stack.outbox.list({ profileId: profileOf(n) }).map((m) => m.time);
  const count = (outcome: string, channel?: string) =>
    ctx.stack.metrics.sum('Deliveries', channel === undefined ? { Outcome: outcome } : { Channel: channel, Outcome: outcome });

  it('records an email SES rejected as failed, counts it, and the journey goes on', async () => {
    const before = count('failed', 'email');
    const beforeJourney = ctx.stack.metrics.sum('Deliveries', { Journey: 'manual-outreach', Outcome: 'failed' });
    const beforeNode = ctx.stack.metrics.sum('Deliveries', { Journey: 'manual-outreach', Node: 'outreach-email', Outcome: 'failed' });
    ctx.stack.outbox.inject({ channel: 'email', error: 'SesV2.MessageRejectedException' });
    const run = await outreach(1, { text: 'Hello' });

    expect(run.status).toBe('SUCCEEDED');
    expect(await ledgerEntry(ctx.stack, run.executionArn, 'outreach-email')).toMatchObject({ status: 'failed', error: 'SesV2.MessageRejectedException' });
    expect(count('failed', 'email')).toBe(before + 1);
    expect(ctx.stack.outbox.list({ profileId: profileOf(1) })).toEqual([]);
    // Counted per journey and per journey node too, in the same PutMetricData.
    const perJourney = { Journey: 'manual-outreach', Outcome: 'failed' };
    expect(ctx.stack.metrics.sum('Deliveries', perJourney)).toBe(beforeJourney + 1);
    expect(ctx.stack.metrics.sum('Deliveries', { ...perJourney, Node: 'outreach-email' })).toBe(beforeNode + 1);
  });

  it('records an email whose call timed out after it went out as unknown, not failed, and sends it once', async () => {
    const before = count('unknown');
    ctx.stack.outbox.inject({ channel: 'email', error: 'States.Timeout', sent: true });
    const t0 = ctx.clock.nowMs();
    const run = await outreach(2, { text: 'Hello' });

    expect(await ledgerEntry(ctx.stack, run.executionArn, 'outreach-email')).toMatchObject({ status: 'unknown', error: 'States.Timeout' });
    expect(count('unknown')).toBe(before + 1);
    expect(times(2)).toEqual([iso(t0)]);
  });

  it('sends an SMS again after End User Messaging SMS throttled it, and records it sent once', async () => {
    const before = count('sent', 'sms');
    ctx.stack.outbox.inject({ channel: 'sms', error: 'PinpointSmsVoiceV2.ThrottlingException' });
    ctx.stack.outbox.inject({ channel: 'sms', error: 'PinpointSmsVoiceV2.ThrottlingException' });
    const t0 = ctx.clock.nowMs();
    // Sent by the second retry, 2 + 4 s after the first attempt.
    const run = await outreach(3, { channel: 'sms', text: 'Hello' }, DELIVERY_RETRIES[0] + DELIVERY_RETRIES[1]);

    expect(await ledgerEntry(ctx.stack, run.executionArn, 'outreach-sms')).toMatchObject({ status: 'sent' });
    expect(times(3)).toEqual([iso(t0 + DELIVERY_RETRIES[0] + DELIVERY_RETRIES[1])]);
    expect(count('sent', 'sms')).toBe(before + 1);
  });

  it('sends an email once when DynamoDB throttles the ledger update after SES accepted it, and records it sent', async () => {
    // DynamoDB throttles the first two ledger updates (a fault before the SDK's own retries, so the state sees it).
    const client = (ctx.stack.executions as unknown as { options: { dynamo: DynamoDBClient } }).options.dynamo;
    let throttled = 0;
    const throttle = 'throttle-ledger';
    client.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { Key?: { pk?: { S?: string } } };
        if (input.Key?.pk?.S?.startsWith('LEDGER#') && throttled < 2) {
          throttled++;
          throw Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), { name: 'ProvisionedThroughputExceededException' });
        }
        return next(args);
      },
      { step: 'initialize', name: throttle },
    );
    try {
      const t0 = ctx.clock.nowMs();
      // The update succeeds on its second retry, 1 + 2 s after the email went out.
      const run = await outreach(7, { text: 'Hello' }, LEDGER_RETRIES[0] + LEDGER_RETRIES[1]);
      expect(run.status).toBe('SUCCEEDED');
      expect(throttled).toBe(2);
      expect(await ledgerEntry(ctx.stack, run.executionArn, 'outreach-email')).toMatchObject({ status: 'sent' });
      expect(times(7)).toEqual([iso(t0)]);
    } finally {
      client.middlewareStack.remove(throttle);
    }
  });

  it.each<[string, string, number]>([
    ['PERMANENT_FAILURE', 'failed', 0],
    ['UNKNOWN_FAILURE', 'unknown', 0],
    ['THROTTLED', 'sent', 1],
  ])('records a push Pinpoint answered 200 with DeliveryStatus %s as %s', async (status, outcome, delivered) => {
    const n = { PERMANENT_FAILURE: 4, UNKNOWN_FAILURE: 5, THROTTLED: 6 }[status]!;
    await ctx.put('account.updated', { id: `faults-account-${n}`, identities: { email: email(n) }, attributes: { pushToken: `device-f${n}` } });
    const before = count(outcome, 'push');
    ctx.stack.outbox.inject({ channel: 'push', deliveryStatus: status });
    const reply = await call(ctx.stack, 'POST', '/journeys/nudge/trigger', { profileId: profileOf(n) });
    expect(reply.status).toBe(202);
    await ctx.stack.settle();
    // Ended (the time is not asserted: a Parallel state's retries run at once in virtual time, not 2 s later).
    const runs = ctx.stack.executions.list({ journeyId: 'nudge', profileId: profileOf(n) });
    expect(runs.map((r) => r.status)).toEqual([expect.not.stringMatching(/^RUNNING$/)]);
    const [run] = runs;

    expect(await ledgerEntry(ctx.stack, run.executionArn, 'nudge-push')).toMatchObject({ status: outcome });
    expect(count(outcome, 'push')).toBe(before + 1);
    expect(ctx.stack.outbox.list({ profileId: profileOf(n) })).toHaveLength(delivered);
  });
});
