import { routeBusEvent, type RouteDeps } from '../../../lambdas/core/runtime/route';

/** Deps that fail the test when touched: an ignored event reads and writes nothing. */
const untouchable = new Proxy({} as RouteDeps, {
  get: (_t, port) => new Proxy({}, { get: (_p, method) => () => Promise.reject(new Error(`${String(port)}.${String(method)} was called`)) }),
});

describe('routing AWS service events', () => {
  it('ignores an SES bounce on the bus instead of rejecting it as an invalid business event', async () => {
    const raw = { id: 'ses-1', 'detail-type': 'Email Bounced', source: 'aws.ses', time: '2026-03-01T10:30:02Z', detail: { mail: { destination: ['ann@example.com'] } } };
    await expect(routeBusEvent(untouchable, raw)).resolves.toEqual({ status: 'ignored', reason: 'aws-event' });
  });

  it('still rejects (and keeps) an invalid event from any other source', async () => {
    const kept: unknown[] = [];
    const deps = { ...untouchable, rejected: { put: async (r: unknown) => void kept.push(r), list: async () => [] }, clock: { now: () => new Date('2026-03-01T00:00:00Z') } } as unknown as RouteDeps;
    const raw = { id: 'x-1', 'detail-type': 'Email Bounced', source: 'awsome.shop', time: '2026-03-01T10:30:02Z', detail: {} };
    await expect(routeBusEvent(deps, raw)).resolves.toMatchObject({ status: 'rejected' });
    expect(kept).toHaveLength(1);
  });
});
