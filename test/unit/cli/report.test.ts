import { run, type Io } from '../../../bin/waymark';
import { signedHeaders } from '../../../bin/report-client';
import { COUNTER } from '../../../lambdas/core/measure/counters';
import { buildReport } from '../../../lambdas/core/measure/report';
import type { Journey } from '../../../lambdas/core/journey/schema';

// Without --api the CLI calls WAYMARK_API_URL: each test starts without it, whatever the shell running jest has.
const savedApi = process.env.WAYMARK_API_URL;
beforeEach(() => {
  delete process.env.WAYMARK_API_URL;
});
afterAll(() => {
  if (savedApi !== undefined) process.env.WAYMARK_API_URL = savedApi;
});

const journey = {
  schemaVersion: 1,
  id: 'demo',
  name: 'Demo <b>journey</b>',
  entry: { kind: 'event', event: 'demo.entered' },
  settings: { reentry: 'never', timeout: '91d', messageClass: 'marketing', holdout: { percent: 10 } },
  goal: { event: 'order.placed', within: '7d' },
  start: 'hello',
  nodes: [
    { id: 'hello', kind: 'send', channel: 'email', template: { subject: 's', text: 't' }, next: 'done' },
    { id: 'done', kind: 'exit' },
  ],
} as unknown as Journey;

const report = buildReport(
  journey,
  [
    { day: '2026-12-01', name: COUNTER.entered, dims: {}, value: 900 },
    { day: '2026-12-01', name: COUNTER.entered, dims: { variant: 'holdout' }, value: 100 },
    { day: '2026-12-01', name: COUNTER.sent, dims: { node: 'hello', channel: 'email' }, value: 880 },
    { day: '2026-12-01', name: COUNTER.suppressed, dims: { node: 'hello', channel: 'email', reason: 'opted-out' }, value: 20 },
    { day: '2026-12-01', name: COUNTER.converted, dims: {}, value: 90 },
    { day: '2026-12-01', name: COUNTER.converted, dims: { variant: 'holdout' }, value: 5 },
  ],
  '2026-12-01',
  '2026-12-02',
);

async function cli(argv: string[], answer: { status: number; body: string } = { status: 200, body: JSON.stringify(report) }) {
  let stdout = '';
  let stderr = '';
  const written: Record<string, string> = {};
  const requests: { url: string; headers: Record<string, string> }[] = [];
  const signed: { url: string; region: string }[] = [];
  const io: Io = {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    readFile: async () => '',
    writeFile: async (path, text) => void (written[path] = text),
  };
  const code = await run(argv, io, {
    http: async (url, headers) => (requests.push({ url: url.toString(), headers }), answer),
    sign: async (url, region) => (signed.push({ url: url.toString(), region }), { authorization: 'AWS4-HMAC-SHA256 test' }),
  });
  return { code, stdout, stderr, written, requests, signed };
}

describe('waymark report', () => {
  it('prints a table from the local stack by default, unsigned', async () => {
    const out = await cli(['report', 'demo', '--from', '2026-12-01', '--to=2026-12-02']);
    expect(out.code).toBe(0);
    expect(out.requests).toEqual([{ url: 'http://localhost:3000/journeys/demo/report?from=2026-12-01&to=2026-12-02', headers: { accept: 'application/json' } }]);
    expect(out.signed).toEqual([]);
    expect(out.stdout).toMatch(/Entered 1000; exited 0/);
    expect(out.stdout).toMatch(/hello\s+send\s+900\s+880\s+20\s+0/);
    expect(out.stdout).toMatch(/hello: suppressed opted-out 20/);
    expect(out.stdout).toMatch(/Journey holdout \(control: holdout\)/);
    expect(out.stdout).toMatch(/journey vs holdout: \+5\.00 pp \[/);
  });

  it('signs requests to a deployed API with SigV4 in the region of its URL', async () => {
    const out = await cli(['report', 'demo', '--api', 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod', '--json']);
    expect(out.code).toBe(0);
    expect(out.signed).toEqual([{ url: 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod/journeys/demo/report', region: 'eu-west-1' }]);
    expect(out.requests[0].headers.authorization).toBe('AWS4-HMAC-SHA256 test');
    expect(JSON.parse(out.stdout)).toEqual(JSON.parse(JSON.stringify(report)));
  });

  it('calls WAYMARK_API_URL when no --api is given, and --api over it', async () => {
    process.env.WAYMARK_API_URL = 'http://127.0.0.1:4100/stage';
    expect((await cli(['report', 'demo'])).requests.map((r) => r.url)).toEqual(['http://127.0.0.1:4100/stage/journeys/demo/report']);
    expect((await cli(['report', 'demo', '--api', 'http://localhost:4200'])).requests.map((r) => r.url)).toEqual(['http://localhost:4200/journeys/demo/report']);
  });

  it('writes one self-contained HTML file: diagram, funnel, variants and the daily chart inline, escaped', async () => {
    const out = await cli(['report', 'demo', '--html', 'out.html']);
    expect(out.code).toBe(0);
    const html = out.written['out.html'];
    expect(html).toContain('<svg id="diagram"');
    expect(html).toContain('<table id="funnel">');
    expect(html).toContain('<svg id="daily"');
    expect(html).toContain('Demo &#60;b&#62;journey&#60;/b&#62;');
    // Nothing to fetch: no external script, stylesheet or image.
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(out.stdout).toBe('');
  });

  it('exits 1 with the problem detail when the API answers an error', async () => {
    const out = await cli(['report', 'nope'], { status: 404, body: JSON.stringify({ title: 'Not Found', detail: 'journey "nope" does not exist' }) });
    expect(out.code).toBe(1);
    expect(out.stderr).toBe('waymark: /journeys/nope/report answered 404: journey "nope" does not exist\n');
  });

  it.each([
    [['report'], /missing <journey-id>/],
    [['report', 'a', 'b'], /expected one journey id/],
    [['report', 'a', '--from', '1 Dec'], /--from is a day/],
    [['report', 'a', '--api', 'ftp://x'], /--api is an http\(s\) URL/],
  ])('refuses %j with a usage error', async (argv, message) => {
    const out = await cli(argv);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(message);
  });
});

describe('signedHeaders', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('signs with the credentials of the standard chain (here the environment) for execute-api', async () => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
    process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    const headers = await signedHeaders(new URL('https://abc.execute-api.eu-west-1.amazonaws.com/prod/journeys/demo/report?from=2026-12-01'), 'eu-west-1');
    expect(headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/);
    expect(headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
  });

  it('signs a POST with its body: the content type is signed and the payload hash is the body\'s', async () => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
    process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    const url = new URL('https://abc.execute-api.eu-west-1.amazonaws.com/prod/campaigns/win-back/runs');
    const body = '{"dryRun":true}';
    const headers = await signedHeaders(url, 'eu-west-1', { method: 'POST', body });
    expect(headers.authorization).toMatch(/SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, /);
    expect(headers['x-amz-content-sha256']).toBe(require('node:crypto').createHash('sha256').update(body).digest('hex'));
  });
});
