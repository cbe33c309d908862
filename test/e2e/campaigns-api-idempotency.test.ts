import { run } from '../../bin/waymark';
import { keyedRunId } from '../../lambdas/core/campaigns/control';
import { Campaign } from '../../lambdas/core/campaigns/schema';
import { call } from './http';
import { openVirtualStack } from './local-stack';

/**
 * `POST /campaigns/{id}/runs` with an `Idempotency-Key` through the local stack over HTTP (dynalite, s3rver, the
 * compiled definition run by the local executor, virtual clock): a client that retries never sends twice.
 */
const gold = { kind: 'equals', field: { kind: 'attribute', name: 'tier' }, value: 'gold' } as const;
const campaign = (id: string) =>
  Campaign.parse({
    schemaVersion: 1,
    id,
    name: `Campaign ${id}`,
    audience: { rule: gold },
    schedule: { type: 'on-demand' },
    start: 'email',
    steps: { email: { kind: 'deliver', channel: 'email', template: { subject: 'Hi', text: 'Hello' } } },
  });
const RETRIED = campaign('retried');
const RACED = campaign('raced');
const CHANGED = campaign('changed');
const BY_CLI = campaign('by-cli');
const GOLD = ['g0@shop.example', 'g1@shop.example', 'g2@shop.example'];

type Ctx = Awaited<ReturnType<typeof openVirtualStack>>;

describe('campaign runs with an Idempotency-Key (local stack)', () => {
  let ctx: Ctx;
  beforeAll(async () => {
    ctx = await openVirtualStack({ s3: true, campaigns: [RETRIED, RACED, CHANGED, BY_CLI], rules: [], start: '2026-12-01T09:00:00.000Z' });
    for (const [n, email] of [...GOLD, 'silver@shop.example'].entries()) {
      const event = { type: 'signed.up', id: `signup-${n}`, identities: { email }, attributes: { tier: n < GOLD.length ? 'gold' : 'silver' } };
      expect((await call(ctx.stack, 'POST', '/events', event)).status).toBe(202);
    }
    await ctx.stack.settle();
  }, 60_000);
  afterAll(async () => {
    await ctx.clock.runUntilIdle();
    await ctx.stack.stop();
  });

  /** POST a run with headers; the reply with the headers the test reads. */
  async function startRun(campaignId: string, body: string, headers: Record<string, string>) {
    const response = await fetch(`${ctx.stack.url}/campaigns/${campaignId}/runs`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const text = await response.text();
    return {
      status: response.status,
      contentType: response.headers.get('content-type'),
      location: response.headers.get('location'),
      replayed: response.headers.get('idempotent-replayed'),
      body: JSON.parse(text),
    };
  }
  const executionsOf = async (campaignId: string) => {
    const registered = await ctx.stack.campaignRegistry.get(campaignId);
    return ctx.stack.executions.list().filter((e) => e.stateMachineArn === registered!.stateMachineArn);
  };
  const emailsOf = (campaignId: string) =>
    ctx.stack.outbox.list({ journeyId: `campaign:${campaignId}` }).map((m) => m.recipient).sort();
  const runsOf = async (campaignId: string) => (await call(ctx.stack, 'GET', `/campaigns/${campaignId}/runs`)).body.runs;

  it('answers a retried request with the run it started, and every member gets the message once', async () => {
    const first = await startRun('retried', '{}', { 'Idempotency-Key': 'retry-1' });
    expect([first.status, first.replayed, first.body.runId]).toEqual([202, null, keyedRunId('retried', 'retry-1')]);
    // The client timed out and sends the same request again, before and after the run ended.
    const during = await startRun('retried', '{}', { 'Idempotency-Key': 'retry-1' });
    await ctx.clock.runUntilIdle();
    await ctx.stack.settle();
    const after = await startRun('retried', '{"dryRun":false}', { 'idempotency-key': 'retry-1' });
    for (const reply of [during, after]) {
      expect([reply.status, reply.replayed, reply.location, reply.body.runId]).toEqual([200, 'true', `/campaigns/retried/runs/${first.body.runId}`, first.body.runId]);
    }
    expect(after.body).toMatchObject({ status: 'succeeded', counts: { steps: { email: { sent: { total: GOLD.length } } } } });
    await ctx.clock.runUntilIdle();
    await ctx.stack.settle();
    expect((await executionsOf('retried')).map((e) => e.name)).toEqual([first.body.runId]);
    expect((await runsOf('retried')).map((r: { runId: string }) => r.runId)).toEqual([first.body.runId]);
    expect(emailsOf('retried')).toEqual(GOLD);
  }, 60_000);

  it('starts one run and one execution for concurrent requests with one key', async () => {
    const replies = await Promise.all(Array.from({ length: 6 }, () => startRun('raced', '{}', { 'Idempotency-Key': 'burst-7' })));
    const runId = keyedRunId('raced', 'burst-7');
    expect(replies.map((r) => [r.status < 300, r.body.runId])).toEqual(replies.map(() => [true, runId]));
    expect(replies.filter((r) => r.status === 202)).toHaveLength(1);
    await ctx.clock.runUntilIdle();
    await ctx.stack.settle();
    expect((await executionsOf('raced')).map((e) => [e.name, e.status])).toEqual([[runId, 'SUCCEEDED']]);
    expect((await runsOf('raced')).map((r: { runId: string }) => r.runId)).toEqual([runId]);
    expect(emailsOf('raced')).toEqual(GOLD);
  }, 60_000);

  it('answers 409 naming the header for a key sent again with another body, and 400 for a key it cannot take', async () => {
    const dry = await startRun('changed', '{"dryRun":true}', { 'Idempotency-Key': 'k-dry' });
    expect([dry.status, dry.body.dryRun]).toEqual([200, true]);
    const sending = await startRun('changed', '{}', { 'Idempotency-Key': 'k-dry' });
    expect([sending.status, sending.contentType, sending.body.errors]).toEqual([
      409,
      'application/problem+json',
      [{ field: 'Idempotency-Key', message: expect.stringContaining('already used for a dry run') }],
    ]);
    for (const key of ['', 'has space', 'k'.repeat(129), '"unclosed', 'a,b', '{}']) {
      const bad = await startRun('changed', '{}', { 'Idempotency-Key': key });
      expect([key.slice(0, 20), bad.status, bad.contentType, bad.body.errors?.[0]?.field]).toEqual([key.slice(0, 20), 400, 'application/problem+json', 'Idempotency-Key']);
    }
    // A header sent twice arrives as one value joined by a comma.
    const twice = await fetch(`${ctx.stack.url}/campaigns/changed/runs`, {
      method: 'POST',
      headers: [['content-type', 'application/json'], ['Idempotency-Key', 'k-1'], ['Idempotency-Key', 'k-2']],
      body: '{}',
    });
    expect(twice.status).toBe(400);
    await ctx.clock.runUntilIdle();
    await ctx.stack.settle();
    expect((await runsOf('changed')).map((r: { runId: string; dryRun?: boolean }) => [r.runId, r.dryRun])).toEqual([[dry.body.runId, true]]);
    expect(emailsOf('changed')).toEqual([]);
  }, 60_000);

  it('waymark campaigns run, re-run with the key it was given, answers the same run and sends nothing twice', async () => {
    const cli = async (...argv: string[]) => {
      let stdout = '';
      const io = { stdout: (t: string) => (stdout += t), stderr: (t: string) => (stdout += t), readFile: async () => '' };
      return { code: await run(['campaigns', 'run', 'by-cli', ...argv, '--api', ctx.stack.url], io), stdout };
    };
    const first = await cli('--idempotency-key', 'cli-attempt-1');
    const runId = keyedRunId('by-cli', 'cli-attempt-1');
    // 202 (the run is starting or already running): the CLI says how to follow it.
    expect([first.code, first.stdout]).toEqual([0, expect.stringContaining(`follow it: waymark campaigns run-status by-cli ${runId}`)]);
    await ctx.clock.runUntilIdle();
    await ctx.stack.settle();
    const again = await cli('--idempotency-key', 'cli-attempt-1');
    expect([again.code, again.stdout]).toEqual([0, expect.stringContaining(`run ${runId} of "by-cli": succeeded`)]);
    expect(again.stdout).toMatch(/^ {2}step email: sent 3$/m);
    // Without --idempotency-key each invocation sends a new key: a run of its own.
    const other = await cli();
    expect(other.stdout).not.toContain(runId);
    await ctx.clock.runUntilIdle();
    await ctx.stack.settle();
    expect(await runsOf('by-cli')).toHaveLength(2);
    expect(emailsOf('by-cli')).toEqual([...GOLD, ...GOLD].sort());
  }, 60_000);
});
