import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, type Io } from '../../../bin/waymark';
import { compileCampaign } from '../../../lambdas/core/campaigns/compile';
import { campaignCost } from '../../../lambdas/core/campaigns/cost';
import { Campaign } from '../../../lambdas/core/campaigns/schema';

const ROOT = join(__dirname, '..', '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

type Call = { method: string; url: string; headers: Record<string, string>; body?: string };

/**
 * Runs the CLI with the repository as its root: `extra` files are in memory, any other path is read from the
 * repository; the API answers `answer` and every request is recorded.
 */
async function cli(argv: string[], extra: Record<string, string> = {}, answer = { status: 200, body: '{}' }) {
  let stdout = '';
  let stderr = '';
  const calls: Call[] = [];
  const signed: { url: string; region: string; method?: string; body?: string }[] = [];
  const io: Io = {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    readFile: async (path) => (Object.hasOwn(extra, path) ? extra[path] : readFileSync(path.startsWith('/') ? path : join(ROOT, path), 'utf8')),
  };
  const code = await run(argv, io, {
    root: ROOT,
    request: async (method, url, headers, body) => (calls.push({ method, url: url.toString(), headers, ...(body === undefined ? {} : { body }) }), answer),
    sign: async (url, region, request) => (signed.push({ url: url.toString(), region, ...request }), { authorization: 'AWS4-HMAC-SHA256 test' }),
  });
  return { code, stdout, stderr, calls, signed };
}

const winBack = () => JSON.parse(read('campaigns/win-back.json')) as Record<string, any>;

describe('waymark campaigns validate', () => {
  it('checks every file of campaigns/ by default against the repository catalog, one OK line each, exit 0', async () => {
    const out = await cli(['campaigns', 'validate']);
    expect(out.code).toBe(0);
    const lines = out.stdout.trim().split('\n');
    expect(lines).toContain('OK campaigns/win-back.json: campaign "win-back", 8 steps, 9 states');
    expect(lines.every((line) => line.startsWith('OK campaigns/'))).toBe(true);
    expect(lines.length).toBeGreaterThanOrEqual(2);
  });

  it('prints every violation with its file, step and field and exits 1', async () => {
    const broken = JSON.parse(read('campaigns/newsletter.json'));
    broken.audience.segment = 'no-such-segment';
    const first = 'two-days';
    broken.steps[first].next = 'nowhere';
    const out = await cli(['campaigns', 'validate', 'broken.json', 'campaigns/win-back.json'], { 'broken.json': JSON.stringify(broken) });
    expect(out.code).toBe(1);
    const lines = out.stdout.trim().split('\n');
    expect(lines).toContain('OK campaigns/win-back.json: campaign "win-back", 8 steps, 9 states');
    expect(lines.some((l) => l.startsWith('broken.json: audience.segment') && l.includes('no-such-segment'))).toBe(true);
    expect(lines.some((l) => l.startsWith(`broken.json: steps.${first}.next (step "${first}")`) && l.includes('nowhere'))).toBe(true);
  });

  it('reports a schema violation by its field, a file that is not JSON, and a campaign id defined twice', async () => {
    const schema = winBack();
    schema.steps['offer-email'].rate = -1;
    const out = await cli(['campaigns', 'validate', 'a.json', 'b.json', 'c.json'], {
      'a.json': JSON.stringify(schema),
      'b.json': '{ not json',
      'c.json': JSON.stringify({ ...winBack() }),
    });
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/^a\.json: steps\.offer-email\.rate: /m);
    expect(out.stdout).toMatch(/^b\.json: \(file\): not valid JSON/m);
    expect(out.stdout).toMatch(/^OK c\.json: campaign "win-back"/m);
  });

  it('reports the second file defining an id', async () => {
    const out = await cli(['campaigns', 'validate', 'campaigns/win-back.json', 'copy.json'], { 'copy.json': read('campaigns/win-back.json') });
    expect(out.code).toBe(1);
    expect(out.stdout).toContain('copy.json: id: campaign "win-back" is also defined in campaigns/win-back.json');
  });

  it('is a usage error (exit 2) for an unknown subcommand or an unreadable file', async () => {
    expect((await cli(['campaigns', 'launch'])).code).toBe(2);
    const missing = await cli(['campaigns', 'validate', 'missing.json'], { });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^waymark: cannot read missing\.json/);
  });
});

describe('waymark cost <campaign file>', () => {
  it('prints Step Functions, Lambda and S3 cost per million recipients from the compiled definition, against the $5 aim', async () => {
    const out = await cli(['cost', 'campaigns/win-back.json']);
    expect(out.code).toBe(0);
    const campaign = Campaign.parse(winBack());
    const expected = campaignCost(campaign, compileCampaign(campaign, { batchSize: 100 }), { recipients: 1_000_000 });
    expect(out.stdout).toMatch(/^campaign "win-back": 1,000,000 recipients, Distributed Map batches of 100 members$/m);
    expect(out.stdout).toMatch(/^ {2}Step Functions: [\d,]+ state transitions, [\d,]+ child executions: \$/m);
    expect(out.stdout).toMatch(/^ {2}Lambda: /m);
    expect(out.stdout).toMatch(/^ {2}S3: /m);
    // The audience in pages (its 8 children, one per scan segment, are in the child executions above).
    expect(out.stdout).toMatch(/^ {4}\(audience\) +audience +1,000,000 members +1,000 pages +\$/m);
    expect(out.stdout).toContain(`${expected.stepFunctions.childExecutions.toLocaleString('en-US')} child executions`);
    expect(out.stdout).toContain(`$${expected.usdPerMillion.toFixed(2)} per million recipients (aim: at most $5.00, met)`);
  });

  it('takes --recipients and --batch-size, and bounds them', async () => {
    const out = await cli(['cost', 'campaigns/win-back.json', '--recipients', '50000', '--batch-size=500']);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^campaign "win-back": 50,000 recipients, Distributed Map batches of 500 members$/m);
    const tooBig = await cli(['cost', 'campaigns/win-back.json', '--batch-size', '5000']);
    expect(tooBig.code).toBe(2);
    expect(tooBig.stderr).toMatch(/--batch-size takes a whole number from 1 to 1,000/);
    expect((await cli(['cost', 'campaigns/win-back.json', '--recipients', '0'])).code).toBe(2);
  });

  it('recognises a campaign outside campaigns/ by its shape, and still costs journey files as before', async () => {
    const elsewhere = await cli(['cost', 'mine.json'], { 'mine.json': read('campaigns/newsletter.json') });
    expect(elsewhere.stdout).toMatch(/^campaign "newsletter"/m);
    const journey = await cli(['cost', 'statemachines/welcome.json']);
    expect(journey.code).toBe(0);
    expect(journey.stdout).toMatch(/^journey "welcome": at most \d+ state transitions per entry/m);
    expect((await cli(['cost', 'statemachines/welcome.json', '--recipients', '5'])).code).toBe(2);
  });

  it('prints the violations of an invalid campaign and exits 1', async () => {
    const broken = JSON.parse(read('campaigns/newsletter.json'));
    broken.audience.segment = 'no-such-segment';
    const out = await cli(['cost', 'campaigns/broken.json'], { 'campaigns/broken.json': JSON.stringify(broken) });
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/^campaigns\/broken\.json: audience\.segment/m);
  });
});

describe('waymark campaigns (API)', () => {
  const run = { campaignId: 'win-back', runId: 'r-1', status: 'succeeded', dryRun: true, createdAt: '2026-12-03T10:00:00.000Z', version: 3,
    counts: { run: { audience: { total: 120 }, excluded: { total: 5, by: { control: 5 } } }, steps: { 'offer-email': { sent: { total: 110 } } } } };

  it('lists the campaigns of the local stack, unsigned', async () => {
    const body = JSON.stringify({ campaigns: [{ id: 'win-back', name: 'Win-back', schedule: { type: 'recurring', cron: '0 9 * * ? *', timeZone: 'UTC' } }] });
    const out = await cli(['campaigns', 'list'], {}, { status: 200, body });
    expect(out.code).toBe(0);
    expect(out.calls).toEqual([{ method: 'GET', url: 'http://localhost:3000/campaigns', headers: { accept: 'application/json' } }]);
    expect(out.signed).toEqual([]);
    expect(out.stdout).toBe('win-back  Win-back  (cron 0 9 * * ? * UTC)\n');
  });

  it('starts a dry run with POST {"dryRun":true} and prints its counts', async () => {
    const out = await cli(['campaigns', 'run', 'win-back', '--dry-run'], {}, { status: 200, body: JSON.stringify(run) });
    expect(out.code).toBe(0);
    const key = expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const headers = { accept: 'application/json', 'content-type': 'application/json', 'idempotency-key': key };
    expect(out.calls).toEqual([{ method: 'POST', url: 'http://localhost:3000/campaigns/win-back/runs', body: '{"dryRun":true}', headers }]);
    expect(out.stdout).toContain('run r-1 of "win-back": succeeded (dry run: nothing sent, counts are estimates)');
    expect(out.stdout).toContain('  run: audience 120, excluded 5 (control 5)');
    expect(out.stdout).toContain('  step offer-email: sent 110');
  });

  it('sends a new Idempotency-Key with each run, or the one given, and names it when the answer is lost', async () => {
    const twice = [await cli(['campaigns', 'run', 'win-back']), await cli(['campaigns', 'run', 'win-back'])];
    const [a, b] = twice.map((out) => out.calls[0].headers['idempotency-key']);
    expect(a).not.toBe(b);
    const given = await cli(['campaigns', 'run', 'win-back', '--idempotency-key', 'spring-sale-1'], {}, { status: 503, body: '{"title":"Service Unavailable"}' });
    expect(given.calls[0].headers['idempotency-key']).toBe('spring-sale-1');
    expect(given.code).toBe(1);
    expect(given.stderr).toBe(
      'waymark: POST /campaigns/win-back/runs answered 503: Service Unavailable\n' +
        'waymark: the run may have started: run the same command with --idempotency-key spring-sale-1 to get it, sending nothing twice\n',
    );
    const refused = await cli(['campaigns', 'run', 'win-back', '--idempotency-key', 'k'], {}, { status: 409, body: '{"detail":"already used"}' });
    expect(refused.stderr).toBe('waymark: POST /campaigns/win-back/runs answered 409: already used\n');
  });

  it('refuses an --idempotency-key the API cannot take, as a usage error, before calling it', async () => {
    for (const key of ['has space', 'k'.repeat(129), 'clé']) {
      const out = await cli(['campaigns', 'run', 'win-back', '--idempotency-key', key]);
      expect([out.code, out.calls]).toEqual([2, []]);
    }
    expect((await cli(['campaigns', 'runs', 'win-back', '--idempotency-key', 'k'])).code).toBe(2);
  });

  it('signs a deployed API\'s POST with SigV4 (method and body) in the region of its URL', async () => {
    const api = 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod';
    const out = await cli(['campaigns', 'pause', 'win-back', 'r-1', '--api', api, '--json'], {}, { status: 200, body: JSON.stringify({ ...run, status: 'paused' }) });
    expect(out.code).toBe(0);
    expect(out.signed).toEqual([{ url: `${api}/campaigns/win-back/runs/r-1/pause`, region: 'eu-west-1', method: 'POST' }]);
    expect(out.calls[0]).toMatchObject({ method: 'POST', headers: { authorization: 'AWS4-HMAC-SHA256 test' } });
    expect(JSON.parse(out.stdout).status).toBe('paused');
  });

  it('reads runs and one run\'s status, escaping ids in the path', async () => {
    const runs = await cli(['campaigns', 'runs', 'win-back'], {}, { status: 200, body: JSON.stringify({ runs: [run] }) });
    expect(runs.stdout).toBe('r-1  succeeded (dry run)  2026-12-03T10:00:00.000Z\n');
    const status = await cli(['campaigns', 'run-status', 'win-back', 'a/b'], {}, { status: 200, body: JSON.stringify(run) });
    expect(status.calls[0].url).toBe('http://localhost:3000/campaigns/win-back/runs/a%2Fb');
  });

  it('exits 1 with the problem detail when the API refuses (a 409 on a run that cannot be paused)', async () => {
    const problem = { title: 'Conflict', detail: 'the run is succeeded: only a running run can be paused' };
    const out = await cli(['campaigns', 'pause', 'win-back', 'r-1'], {}, { status: 409, body: JSON.stringify(problem) });
    expect(out.code).toBe(1);
    expect(out.stderr).toBe('waymark: POST /campaigns/win-back/runs/r-1/pause answered 409: the run is succeeded: only a running run can be paused\n');
  });

  it('is a usage error when the arguments do not fit the subcommand', async () => {
    expect((await cli(['campaigns', 'run-status', 'win-back'])).code).toBe(2);
    expect((await cli(['campaigns', 'list', '--dry-run'])).code).toBe(2);
  });
});
