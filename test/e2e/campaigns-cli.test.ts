import { run } from '../../bin/waymark';
import type { CampaignRunRecord } from '../../lambdas/core/campaigns/contract';
import { Campaign } from '../../lambdas/core/campaigns/schema';
import { openVirtualStack } from './local-stack';

/** `waymark campaigns …` against the local stack's campaigns API over HTTP: the shapes the CLI reads are the API's own. */
const WEEKLY = Campaign.parse({
  schemaVersion: 1,
  id: 'cli-weekly',
  name: 'CLI weekly',
  audience: { segment: 'loyalty-members' },
  schedule: { type: 'recurring', cron: '0 9 ? * MON *', timeZone: 'Europe/London' },
  start: 'email',
  steps: { email: { kind: 'deliver', channel: 'email', template: { subject: 'Hi', text: 'Hello' } } },
});

describe('waymark campaigns against the local stack', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    ctx = await openVirtualStack({ campaigns: [WEEKLY], s3: true, start: '2026-12-01T09:00:00.000Z' });
    for (const [n, tier] of ['gold', 'silver', 'none'].entries()) {
      await ctx.put('signed.up', { id: `cli-${n}`, identities: { email: `cli${n}@shop.example` }, attributes: { loyaltyTier: tier } });
    }
  }, 60_000);
  afterAll(async () => {
    await ctx.clock.runUntilIdle();
    await ctx.stack.stop();
  });

  async function cli(...argv: string[]) {
    let stdout = '';
    let stderr = '';
    const io = { stdout: (t: string) => (stdout += t), stderr: (t: string) => (stderr += t), readFile: async () => '' };
    const code = await run(['campaigns', ...argv, '--api', ctx.stack.url], io);
    return { code, stdout, stderr };
  }

  async function seedRun(runId: string, status: CampaignRunRecord['status']): Promise<void> {
    const record: CampaignRunRecord = { campaignId: 'cli-weekly', runId, status, trigger: 'api', createdAt: ctx.clock.now().toISOString(), version: 1 };
    expect(await ctx.stack.campaignRuns.create(record)).toBe(true);
  }

  it('lists the deployed campaigns and shows one with its schedule, next occurrence and steps', async () => {
    expect(await cli('list')).toEqual({ code: 0, stdout: 'cli-weekly  CLI weekly  (cron 0 9 ? * MON * Europe/London)\n', stderr: '' });
    const show = await cli('show', 'cli-weekly');
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('cli-weekly: CLI weekly (version ');
    expect(show.stdout).toContain('  schedule: cron 0 9 ? * MON * Europe/London, next 2026-12-07T09:00:00.000Z');
    expect(show.stdout).toContain('  steps from email: email (deliver email)');
  });

  it('reads a run with its counts, pauses it, and exits 1 with the API\'s reason when it cannot be paused again', async () => {
    await seedRun('cli-r1', 'running');
    await ctx.stack.campaignRuns.add('cli-weekly', 'cli-r1', [
      { step: '', name: 'audience', dim: '', value: 3 },
      { step: 'email', name: 'sent', dim: '', value: 2 },
      { step: 'email', name: 'suppressed', dim: 'no-address', value: 1 },
    ]);
    expect((await cli('runs', 'cli-weekly')).stdout).toBe('cli-r1  running  2026-12-01T09:00:00.000Z\n');
    const status = await cli('run-status', 'cli-weekly', 'cli-r1');
    expect(status.stdout).toContain('run cli-r1 of "cli-weekly": running');
    expect(status.stdout).toContain('  run: audience 3');
    expect(status.stdout).toContain('  step email: sent 2, suppressed 1 (no-address 1)');
    expect(status.stdout).toContain('  conversions: the campaign declares no goal');
    expect((await cli('pause', 'cli-weekly', 'cli-r1')).stdout).toContain('run cli-r1 of "cli-weekly": paused');
    const again = await cli('pause', 'cli-weekly', 'cli-r1');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^waymark: POST \/campaigns\/cli-weekly\/runs\/cli-r1\/pause answered 409: run "cli-r1" is paused/);
    expect((await cli('resume', 'cli-weekly', 'cli-r1', '--json')).stdout).toContain('"status": "running"');
  });

  it('answers a dry run with the audience and sends nothing; a run started from the CLI sends to every member', async () => {
    const dry = await cli('run', 'cli-weekly', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^run \S+ of "cli-weekly": succeeded \(dry run: nothing sent, counts are estimates\)$/m);
    expect(dry.stdout).toMatch(/^ {2}run: .*audience 2/m);
    expect(ctx.stack.outbox.list({ journeyId: 'campaign:cli-weekly' })).toEqual([]);

    const started = await cli('run', 'cli-weekly');
    expect(started.code).toBe(0);
    const [, runId] = /^run (\S+) of "cli-weekly"/.exec(started.stdout)!;
    expect(started.stdout).toContain(`  follow it: waymark campaigns run-status cli-weekly ${runId}`);
    await ctx.clock.runUntilIdle();
    await ctx.stack.settle();
    const status = await cli('run-status', 'cli-weekly', runId);
    expect(status.stdout).toContain(`run ${runId} of "cli-weekly": succeeded`);
    expect(status.stdout).toMatch(/^ {2}step email: sent 2/m);
    expect(ctx.stack.outbox.list({ journeyId: 'campaign:cli-weekly' }).map((m) => m.recipient).sort()).toEqual(['cli0@shop.example', 'cli1@shop.example']);
  }, 60_000);

  it('exits 1 naming the campaign the API does not know', async () => {
    const out = await cli('show', 'nope');
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/^waymark: GET \/campaigns\/nope answered 404/);
  });
});
