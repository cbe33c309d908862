import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { buildCatalog } from '../../lambdas/core/journey/catalog';
import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import { loadJourneyDir } from '../../lambdas/local/stack';
import { ledgerEntry } from './consent-support';
import { call } from './http';
import { finished, openStack } from './local-stack';

const email = (n: number) => `faults${n}@example.com`;
const profileOf = (n: number) => newProfileId('email', email(n));

/** An API-triggered push, to see Pinpoint's per-address DeliveryStatus through the local stack. */
const nudge = buildCatalog([
  {
    path: 'nudge.json',
    text: JSON.stringify({
      schemaVersion: 1,
      id: 'nudge',
      name: 'Nudge',
      entry: { kind: 'api' },
      settings: { reentry: 'always' },
      start: 'nudge-push',
      nodes: [
        { id: 'nudge-push', kind: 'send', channel: 'push', template: { title: 'Hi', body: 'Come back' }, next: 'done' },
        { id: 'done', kind: 'exit' },
      ],
    }),
  },
]).journeys;

/** Provider faults on the local stack (injected in the outbox), through the compiled ASL of manual-outreach. */
describe('delivery faults', () => {
  let ctx: Awaited<ReturnType<typeof openStack>>;
  beforeAll(async () => {
    ctx = await openStack(1_000_000, { journeys: [...loadJourneyDir(join(__dirname, '..', '..', 'statemachines')), ...nudge] });
  });
  afterAll(() => ctx.stack.stop());

  const outreach = async (n: number, context: Record<string, unknown>) => {
    const reply = await call(ctx.stack, 'POST', '/journeys/manual-outreach/trigger', { identities: { email: email(n), phone: `+4917000009${n}` }, context });
    expect(reply.status).toBe(202);
    const [run] = await finished(ctx.stack, 'manual-outreach', profileOf(n));
    return run;
  };
  const count = (outcome: string, channel?: string) =>
    ctx.stack.metrics.sum('Deliveries', channel === undefined ? { Outcome: outcome } : { Channel: channel, Outcome: outcome });

  it('records an email SES rejected as failed, counts it, and the journey goes on', async () => {
    const before = count('failed', 'email');
    ctx.stack.outbox.inject({ channel: 'email', error: 'SesV2.MessageRejectedException' });
    const run = await outreach(1, { text: 'Hello' });

    expect(run.status).toBe('SUCCEEDED');
    expect(await ledgerEntry(ctx.stack, run.executionArn, 'outreach-email')).toMatchObject({ status: 'failed', error: 'SesV2.MessageRejectedException' });
    expect(count('failed', 'email')).toBe(before + 1);
    expect(ctx.stack.outbox.list({ profileId: profileOf(1) })).toEqual([]);
  });

  it('records an email whose call timed out after it went out as unknown, not failed, and sends it once', async () => {
    const before = count('unknown');
    ctx.stack.outbox.inject({ channel: 'email', error: 'States.Timeout', sent: true });
    const run = await outreach(2, { text: 'Hello' });

    expect(await ledgerEntry(ctx.stack, run.executionArn, 'outreach-email')).toMatchObject({ status: 'unknown', error: 'States.Timeout' });
    expect(count('unknown')).toBe(before + 1);
    expect(ctx.stack.outbox.list({ profileId: profileOf(2) })).toHaveLength(1);
  });

  it('sends an SMS again after SNS throttled it, and records it sent once', async () => {
    const before = count('sent', 'sms');
    ctx.stack.outbox.inject({ channel: 'sms', error: 'SNS.ThrottledException' });
    ctx.stack.outbox.inject({ channel: 'sms', error: 'SNS.ThrottledException' });
    const run = await outreach(3, { channel: 'sms', text: 'Hello' });

    expect(await ledgerEntry(ctx.stack, run.executionArn, 'outreach-sms')).toMatchObject({ status: 'sent' });
    expect(ctx.stack.outbox.list({ profileId: profileOf(3) })).toHaveLength(1);
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
      const run = await outreach(7, { text: 'Hello' });
      expect(run.status).toBe('SUCCEEDED');
      expect(throttled).toBe(2);
      expect(await ledgerEntry(ctx.stack, run.executionArn, 'outreach-email')).toMatchObject({ status: 'sent' });
      expect(ctx.stack.outbox.list({ profileId: profileOf(7) })).toHaveLength(1);
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
    const [run] = await finished(ctx.stack, 'nudge', profileOf(n));

    expect(await ledgerEntry(ctx.stack, run.executionArn, 'nudge-push')).toMatchObject({ status: outcome });
    expect(count(outcome, 'push')).toBe(before + 1);
    expect(ctx.stack.outbox.list({ profileId: profileOf(n) })).toHaveLength(delivered);
  });
});
