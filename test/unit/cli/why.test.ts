import { run, type CliDeps, type Io } from '../../../bin/waymark';
import type { HttpGet } from '../../../bin/report-client';

// Without --api the CLI calls WAYMARK_API_URL: each test starts without it, whatever the shell running jest has.
const savedApi = process.env.WAYMARK_API_URL;
beforeEach(() => {
  delete process.env.WAYMARK_API_URL;
});
afterAll(() => {
  if (savedApi !== undefined) process.env.WAYMARK_API_URL = savedApi;
});

const ARN = 'arn:aws:states:local:000000000000:execution:waymark-local-cart-abandonment:cart-abandonment--abc';
const explanation = {
  profileId: 'p-ann',
  journeyId: 'cart-abandonment',
  truncated: false,
  runs: [
    {
      journeyId: 'cart-abandonment',
      executionArn: ARN,
      status: 'SUCCEEDED',
      startedAt: '2026-12-01T09:00:00.000Z',
      end: { reason: 'completed', at: '2026-12-01T12:00:00.000Z' },
      nodes: [
        { node: 'wait-for-order', kind: 'wait-for-event', enteredAt: '2026-12-01T09:00:00.000Z', exitedAt: '2026-12-01T10:00:00.000Z', states: ['wait-for-order'] },
        { node: 'reminder-email', kind: 'send', enteredAt: '2026-12-01T10:00:00.000Z', exitedAt: '2026-12-01T10:00:00.000Z', states: ['reminder-email'] },
      ],
      messages: [
        { node: 'reminder-email', channel: 'email', outcome: 'opened', status: 'sent', preparedAt: '2026-12-01T10:00:00.000Z', deliveredAt: '2026-12-01T10:00:05.000Z', openedAt: '2026-12-01T11:00:00.000Z' },
        { node: 'offer-push', channel: 'push', outcome: 'suppressed', status: 'suppressed', reason: 'consent:push', preparedAt: '2026-12-01T12:00:00.000Z' },
      ],
      decisions: [
        {
          node: 'pick-offer',
          decisionId: 'd-1',
          at: '2026-12-01T12:00:00.000Z',
          placements: {
            push: {
              offers: [{ offerId: 'cart-discount' }],
              fallback: false,
              explanation: [
                { offerId: 'cart-discount', eligible: true, score: 90, chosen: true },
                { offerId: 'free-shipping', eligible: true, score: 30, chosen: false },
                { offerId: 'gold-gift', eligible: false, reason: 'not in segment loyalty-gold', score: null, chosen: false },
              ],
            },
          },
        },
      ],
      variants: [{ node: 'subject-test', variant: 'b' }],
      historyTruncated: false,
    },
  ],
};

/** An API answering from a table of paths; every call is recorded. */
function fakeApi(routes: Record<string, { status: number; body: unknown }>) {
  const calls: { url: string; headers: Record<string, string> }[] = [];
  const http: HttpGet = async (url, headers) => {
    calls.push({ url: url.href, headers });
    const reply = routes[`${url.pathname}${url.search}`] ?? { status: 404, body: { title: 'Not Found', detail: 'no route' } };
    return { status: reply.status, body: JSON.stringify(reply.body) };
  };
  return { http, calls };
}

async function cli(argv: string[], deps: CliDeps) {
  let stdout = '';
  let stderr = '';
  const io: Io = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), readFile: async () => '' };
  return { code: await run(argv, io, deps), stdout, stderr };
}

describe('waymark why', () => {
  const routes = {
    '/profiles?identity=email%3Aann%40example.com': { status: 200, body: { id: 'p-ann' } },
    '/profiles/p-ann/journeys/cart-abandonment': { status: 200, body: explanation },
    '/profiles/p-ann/journeys/nope': { status: 404, body: { title: 'Not Found', detail: 'journey "nope" does not exist and profile "p-ann" has no run of it' } },
  };

  it('looks the profile up by identity and prints each run readably: nodes, messages, decisions, variant, end', async () => {
    const api = fakeApi(routes);
    const out = await cli(['why', 'email:ann@example.com', 'cart-abandonment'], { http: api.http });
    expect(out.code).toBe(0);
    expect(api.calls.map((c) => c.url)).toEqual([
      'http://localhost:3000/profiles?identity=email%3Aann%40example.com',
      'http://localhost:3000/profiles/p-ann/journeys/cart-abandonment',
    ]);
    expect(out.stdout).toBe(
      [
        'profile p-ann · journey cart-abandonment · 1 run, newest first',
        '',
        'run cart-abandonment--abc',
        '  started 2026-12-01 09:00:00Z · ended: completed at 2026-12-01 12:00:00Z',
        '  nodes:',
        '    2026-12-01 09:00:00Z → 2026-12-01 10:00:00Z  wait-for-order (wait-for-event)',
        '    2026-12-01 10:00:00Z → 2026-12-01 10:00:00Z  reminder-email (send)',
        '  messages:',
        '    reminder-email · email · opened · prepared 2026-12-01 10:00:00Z · delivered 2026-12-01 10:00:05Z, opened 2026-12-01 11:00:00Z',
        '    offer-push · push · suppressed (consent:push) · prepared 2026-12-01 12:00:00Z',
        '  decisions:',
        '    pick-offer at 2026-12-01 12:00:00Z · push: cart-discount',
        '      cart-discount: chosen · score 90',
        '      free-shipping: eligible, ranked lower · score 30',
        '      gold-gift: not eligible: not in segment loyalty-gold',
        '  variant: subject-test = b',
        '',
      ].join('\n'),
    );
  });

  it('takes a profile id as is, another API with --api, and prints JSON with --json', async () => {
    const api = fakeApi(routes);
    const out = await cli(['why', 'p-ann', 'cart-abandonment', '--api', 'http://127.0.0.1:4000/', '--json'], { http: api.http });
    expect(out.code).toBe(0);
    expect(api.calls.map((c) => c.url)).toEqual(['http://127.0.0.1:4000/profiles/p-ann/journeys/cart-abandonment']);
    expect(JSON.parse(out.stdout)).toEqual(explanation);
  });

  it("exits 1 with the API's reason for an unknown identity or journey, and when the API cannot be reached", async () => {
    const api = fakeApi(routes);
    expect(await cli(['why', 'email:nobody@example.com', 'cart-abandonment'], { http: api.http })).toEqual({ code: 1, stdout: '', stderr: 'waymark: no profile has the identity email:nobody@example.com\n' });
    expect(await cli(['why', 'p-ann', 'nope'], { http: api.http })).toMatchObject({ code: 1, stderr: expect.stringContaining('journey "nope" does not exist') });
    const down: HttpGet = async () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:3000');
    };
    expect(await cli(['why', 'p-ann', 'cart-abandonment'], { http: down })).toMatchObject({ code: 1, stderr: expect.stringContaining('cannot reach http://localhost:3000') });
  });

  it('exits 2 on a usage error: missing arguments, an unknown option, a URL that is not http(s)', async () => {
    for (const argv of [['why', 'p-ann'], ['why', 'p-ann', 'j', '--verbose'], ['why', 'p-ann', 'j', '--api', 'ftp://x']]) {
      expect(await cli(argv, { http: fakeApi(routes).http })).toMatchObject({ code: 2, stdout: '' });
    }
  });

  it('signs a call to a deployed API in the region of its URL, and not one to the local stack', async () => {
    const api = fakeApi({ '/prod/profiles/p-ann/journeys/cart-abandonment': { status: 200, body: explanation } });
    const signed: { url: string; region: string }[] = [];
    const sign = async (url: URL, region: string) => (signed.push({ url: url.href, region }), { authorization: 'AWS4-HMAC-SHA256 test' });
    const out = await cli(['why', 'p-ann', 'cart-abandonment', '--api', 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod'], { http: api.http, sign });
    expect(out.code).toBe(0);
    expect(signed).toEqual([{ url: 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod/profiles/p-ann/journeys/cart-abandonment', region: 'eu-west-1' }]);
    expect(api.calls[0].headers).toEqual({ accept: 'application/json', authorization: 'AWS4-HMAC-SHA256 test' });
    await cli(['why', 'p-ann', 'cart-abandonment'], { http: api.http, sign });
    expect(signed).toHaveLength(1);
  });
});

describe('the API `why` calls', () => {
  it('is --api, else WAYMARK_API_URL, else the local stack', async () => {
    const api = fakeApi({ '/stage/profiles/p-ann/journeys/cart-abandonment': { status: 200, body: explanation } });
    process.env.WAYMARK_API_URL = 'http://127.0.0.1:4100/stage';
    await cli(['why', 'p-ann', 'cart-abandonment'], { http: api.http });
    await cli(['why', 'p-ann', 'cart-abandonment', '--api', 'http://localhost:4200'], { http: api.http });
    delete process.env.WAYMARK_API_URL;
    await cli(['why', 'p-ann', 'cart-abandonment'], { http: api.http });
    expect(api.calls.map((c) => c.url)).toEqual([
      'http://127.0.0.1:4100/stage/profiles/p-ann/journeys/cart-abandonment',
      'http://localhost:4200/profiles/p-ann/journeys/cart-abandonment',
      'http://localhost:3000/profiles/p-ann/journeys/cart-abandonment',
    ]);
  });

  it('is named, with WAYMARK_API_URL, in the help', async () => {
    expect((await cli(['help'], {})).stdout).toContain('report and why call the API at --api, else at WAYMARK_API_URL, else the local stack');
  });
});
