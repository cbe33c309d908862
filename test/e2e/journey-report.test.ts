import { ScanCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { buildCatalog } from '../../lambdas/core/journey/catalog';
import { localDynamoClient } from '../../lambdas/local/dynalite';
import { startLocalStack, type LocalStack } from '../../lambdas/local/stack';
import { VirtualClock } from '../../lambdas/local/virtual-clock';

/**
 * The report of a journey driven through the local stack equals a recount of the raw facts: the runs the runtime
 * started and how they ended, and the send ledger's entries per node, status and reason.
 */
const demo = buildCatalog([
  {
    path: 'report-demo.json',
    text: JSON.stringify({
      schemaVersion: 1,
      id: 'report-demo',
      name: 'Report demo',
      entry: { kind: 'event', event: 'demo.entered' },
      settings: { reentry: 'always', messageClass: 'marketing', timeout: '10d' },
      goal: { event: 'order.placed', within: '7d' },
      start: 'hello',
      nodes: [
        { id: 'hello', kind: 'send', channel: 'email', template: { subject: 'Hi', text: 'Hello' }, next: 'wait-reply' },
        { id: 'wait-reply', kind: 'wait-for-event', events: ['demo.replied'], timeout: '1d', onEvent: 'done', onTimeout: 'nudge' },
        { id: 'nudge', kind: 'send', channel: 'sms', template: { body: 'Still there?' }, next: 'done' },
        { id: 'done', kind: 'exit' },
      ],
    }),
  },
  {
    path: 'report-short.json',
    text: JSON.stringify({
      schemaVersion: 1,
      id: 'report-short',
      name: 'Times out',
      entry: { kind: 'event', event: 'short.entered' },
      settings: { reentry: 'always', messageClass: 'marketing', timeout: '1h' },
      start: 'wait',
      nodes: [
        { id: 'wait', kind: 'wait', duration: '1d', next: 'done' },
        { id: 'done', kind: 'exit' },
      ],
    }),
  },
]).journeys;

interface Reply {
  status: number;
  body: any;
}

async function call(stack: LocalStack, path: string, query?: Record<string, string>, method = 'GET', body?: unknown): Promise<Reply> {
  const reply = await stack.request({ method, path, query, body: body === undefined ? null : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: reply.statusCode, body: reply.body ? JSON.parse(reply.body) : null };
}

/** Enters 16 profiles on day 1 and 4 more on day 2: delivered, opted out, without address, refused, replied, timed out, erased. */
async function drive(stack: LocalStack, clock: VirtualClock) {
  const put = async (type: string, detail: Record<string, unknown>) => {
    expect((await call(stack, '/events', undefined, 'POST', { type, ...detail })).status).toBe(202);
    await stack.settle();
  };
  const enter = (i: number, identities: Record<string, string>, extra: Record<string, unknown> = {}) =>
    put('demo.entered', { id: `enter-${i}`, identities, ...extra });
  for (let i = 0; i < 12; i++) await enter(i, { email: `p${i}@example.com`, phone: `+4915100000${String(i).padStart(2, '0')}` });
  await enter(12, { email: 'out1@example.com' }, { consent: { email: 'opted-out' } });
  await enter(13, { email: 'out2@example.com' }, { consent: { email: 'opted-out' } });
  await enter(14, { crmId: 'no-address' });
  stack.outbox.inject({ channel: 'email', error: 'SesV2.MessageRejectedException' });
  await enter(15, { email: 'refused@example.com' });
  // Four reply before the timeout and end at once; the others time out into the SMS nudge.
  for (const i of [0, 1, 2, 3]) await put('demo.replied', { id: `reply-${i}`, identities: { email: `p${i}@example.com` } });
  await clock.advance('1d');
  for (let i = 16; i < 20; i++) await enter(i, { email: `q${i}@example.com` });
  return { erase: (email: string) => eraseByEmail(stack, email) };
}

async function eraseByEmail(stack: LocalStack, email: string) {
  const found = await call(stack, '/profiles', { identity: `email:${email}` });
  expect((await call(stack, `/profiles/${found.body.id}`, undefined, 'DELETE')).status).toBe(200);
  await stack.settle();
}

/** The raw facts: every run of the journey and its status, every ledger entry (dynalite's runtime table). */
async function recount(stack: LocalStack) {
  const runs = stack.executions.list({ journeyId: 'report-demo' });
  const db = DynamoDBDocumentClient.from(localDynamoClient(stack.dynamoEndpoint));
  const ledger: Record<string, unknown>[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await db.send(new ScanCommand({ TableName: stack.tables.runtime, ExclusiveStartKey }));
    ledger.push(...(page.Items ?? []).filter((i) => String(i.pk).startsWith('LEDGER#') && i.journeyId === 'report-demo'));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  const count = (node: string, status: string, reason?: string) =>
    ledger.filter((e) => e.sk === node && e.status === status && (reason === undefined || e.reason === reason || e.error === reason)).length;
  const reasons = (node: string) => {
    const out: Record<string, number> = {};
    for (const e of ledger.filter((x) => x.sk === node && x.status === 'suppressed')) out[e.reason as string] = (out[e.reason as string] ?? 0) + 1;
    return out;
  };
  const byDay = (day: string) => runs.filter((r) => r.startDate.startsWith(day)).length;
  return {
    entered: runs.length,
    byDay,
    completed: runs.filter((r) => r.status === 'SUCCEEDED').length,
    running: runs.filter((r) => r.status === 'RUNNING').length,
    node: (id: string) => ({ sent: count(id, 'sent'), failed: count(id, 'failed'), unknown: count(id, 'unknown'), suppressed: reasons(id) }),
  };
}

describe('GET /journeys/{id}/report: the counters equal a recount of the raw facts', () => {
  let stack: LocalStack;
  let clock: VirtualClock;
  beforeAll(async () => {
    clock = new VirtualClock('2026-12-01T09:00:00.000Z');
    stack = await startLocalStack({ listen: false, clock, journeys: demo, segments: [] });
  });
  afterAll(() => stack?.stop());

  it('reports entries, exits by reason and each node\'s outcomes as the runs and the ledger have them', async () => {
    const { erase } = await drive(stack, clock);
    const raw = await recount(stack);
    const { status, body: report } = await call(stack, '/journeys/report-demo/report', { from: '2026-12-01', to: '2026-12-02' });
    expect(status).toBe(200);
    expect(report.entered).toBe(raw.entered);
    expect(report.entered).toBe(20);
    expect(report.days).toEqual([
      { day: '2026-12-01', entered: raw.byDay('2026-12-01'), converted: 0 },
      { day: '2026-12-02', entered: raw.byDay('2026-12-02'), converted: 0 },
    ]);
    expect(report.exited.byReason.completed).toBe(raw.completed);
    expect(report.exited.total).toBe(raw.entered - raw.running);
    const hello = report.nodes.find((n: { id: string }) => n.id === 'hello');
    const rawHello = raw.node('hello');
    expect(hello).toMatchObject({ sent: rawHello.sent, failed: { total: rawHello.failed + rawHello.unknown }, suppressed: { byReason: rawHello.suppressed } });
    expect(hello.failed.byReason).toEqual(rawHello.failed ? { failed: rawHello.failed } : {});
    expect(hello.reached).toEqual({ available: true, value: 20 });
    // What the scenario holds, so the recount is not trivially empty.
    expect([rawHello.sent, rawHello.failed, Object.values(rawHello.suppressed).reduce((s, v) => s + v, 0)]).toEqual([16, 1, 3]);
    const nudge = report.nodes.find((n: { id: string }) => n.id === 'nudge');
    expect(nudge).toMatchObject({ sent: raw.node('nudge').sent, suppressed: { byReason: raw.node('nudge').suppressed } });
    expect(raw.node('nudge').sent).toBe(8);
    expect(report.nodes.find((n: { id: string }) => n.id === 'wait-reply').reached).toEqual({ available: false, reason: expect.stringContaining('only send nodes') });
    expect(report.goal).toMatchObject({ available: true, converted: 0, conversionRate: { available: true, value: 0 }, averageOrderValue: { available: false, reason: 'no conversions yet' } });

    // Erasure ends a waiting run (exited: erased) and removes its ledger entries; the counters, which hold no personal
    // data, keep what was sent.
    await erase('q16@example.com');
    const after = (await call(stack, '/journeys/report-demo/report', { from: '2026-12-01', to: '2026-12-02' })).body;
    expect(after.exited.byReason.erased).toBe(1);
    expect(after.nodes[0].sent).toBe(hello.sent);
    // The rest time out into the nudge and complete.
    await clock.runUntilIdle();
    const end = (await call(stack, '/journeys/report-demo/report', { from: '2026-12-01', to: '2026-12-02' })).body;
    const final = await recount(stack);
    expect(end.exited.byReason).toMatchObject({ completed: final.completed, erased: 1, failed: 0, timeout: 0 });
    expect(end.exited.total).toBe(20);
    expect(end.nodes.find((n: { id: string }) => n.id === 'nudge').sent).toBe(final.node('nudge').sent);
  });

  it('counts a run the journey timeout ended as exited: timeout, once, by its entry day', async () => {
    await call(stack, '/events', undefined, 'POST', { type: 'short.entered', id: 'short-1', identities: { email: 'short@example.com' } });
    await stack.settle();
    await clock.advance('2h');
    expect(stack.executions.list({ journeyId: 'report-short' }).map((r) => r.status)).toEqual(['TIMED_OUT']);
    const report = (await call(stack, '/journeys/report-short/report', { from: '2026-12-01', to: '2026-12-03' })).body;
    expect(report).toMatchObject({ entered: 1, exited: { total: 1, byReason: { timeout: 1, completed: 0 } }, goal: { available: false, reason: 'the journey declares no goal' } });
    expect(report.days.map((d: { entered: number }) => d.entered).reduce((a: number, b: number) => a + b, 0)).toBe(1);
  });

  it('answers 404 for an unknown journey and 400 naming a bad window', async () => {
    expect((await call(stack, '/journeys/nope/report')).status).toBe(404);
    const bad = await call(stack, '/journeys/report-demo/report', { from: '2026-02-30' });
    expect(bad).toMatchObject({ status: 400, body: { errors: [{ field: 'from' }] } });
    const reversed = await call(stack, '/journeys/report-demo/report', { from: '2026-12-02', to: '2026-12-01' });
    expect(reversed).toMatchObject({ status: 400, body: { errors: [{ field: 'to' }] } });
    const long = await call(stack, '/journeys/report-demo/report', { from: '2020-01-01', to: '2026-12-01' });
    expect(long).toMatchObject({ status: 400, body: { errors: [{ field: 'to' }] } });
  });

  it('counts the same in the in-memory stack', async () => {
    const memoryClock = new VirtualClock('2026-12-01T09:00:00.000Z');
    const memory = await startLocalStack({ listen: false, clock: memoryClock, journeys: demo, segments: [], storage: 'memory' });
    try {
      await drive(memory, memoryClock);
      const report = (await call(memory, '/journeys/report-demo/report', { from: '2026-12-01', to: '2026-12-02' })).body;
      expect(report.entered).toBe(20);
      expect(report.nodes[0]).toMatchObject({ sent: 16, failed: { total: 1 }, suppressed: { total: 3 } });
      expect(report.exited.byReason.completed).toBe(16);
    } finally {
      await memory.stop();
    }
  });
});
