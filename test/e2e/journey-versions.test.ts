import { buildCatalog } from '../../lambdas/core/journey/catalog';
import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import { call, problemFields } from './http';
import { openVirtualStack } from './local-stack';

const START = '2026-12-01T09:00:00.000Z';
const HOUR = 3_600_000;
const at = (offsetMs: number) => new Date(Date.parse(START) + offsetMs).toISOString();

/** A journey that waits an hour, then sends one email whose subject says which definition ran. */
function reminder(subject: string) {
  const { journeys, problems } = buildCatalog([
    {
      path: 'reminder.json',
      text: JSON.stringify({
        schemaVersion: 1,
        id: 'reminder',
        name: 'Reminder',
        entry: { kind: 'event', event: 'jv.started' },
        settings: { messageClass: 'transactional', timeout: '1d', reentry: 'always' },
        start: 'wait-an-hour',
        nodes: [
          { id: 'wait-an-hour', kind: 'wait', duration: '1h', next: 'reminder-email' },
          { id: 'reminder-email', kind: 'send', channel: 'email', template: { subject, text: subject }, next: 'done' },
          { id: 'done', kind: 'exit' },
        ],
      }),
    },
  ]);
  if (problems.length > 0) throw new Error(JSON.stringify(problems));
  return journeys[0];
}

const shopper = (n: number) => ({ id: `jv-${n}`, identities: { email: `jv${n}@example.com` } });
const subjects = (messages: { subject?: string; profileId?: string }[], profileId: string) =>
  messages.filter((m) => m.profileId === profileId).map((m) => m.subject);

describe('journey versions on the local stack (J7)', () => {
  const first = reminder('First definition');
  const second = reminder('Second definition');
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    ctx = await openVirtualStack({ start: START, journeys: [first] });
  });
  afterAll(() => ctx.stack.stop());

  const arn = () => ctx.stack.executions.stateMachineArn('reminder');

  it('answers GET /journeys/{id} with the definition in summary, its hash and the live version with its publication time', async () => {
    const reply = await call(ctx.stack, 'GET', '/journeys/reminder');
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      id: 'reminder',
      name: 'Reminder',
      entry: { kind: 'event', event: 'jv.started' },
      settings: expect.objectContaining({ timeout: '1d', reentry: 'always' }),
      start: 'wait-an-hour',
      nodes: [
        { id: 'wait-an-hour', kind: 'wait' },
        { id: 'reminder-email', kind: 'send' },
        { id: 'done', kind: 'exit' },
      ],
      version: first.version,
      stateMachineArn: arn(),
      live: { alias: 'live', aliasArn: `${arn()}:live`, version: 1, versionArn: `${arn()}:1`, publishedAt: START },
    });
  });

  it('answers 404 problem+json for a journey that does not exist, whatever its name', async () => {
    for (const id of ['nope', 'constructor', '__proto__', 'reminder%3Alive']) {
      const reply = await call(ctx.stack, 'GET', `/journeys/${id}`);
      expect({ id, status: reply.status, type: reply.contentType }).toEqual({ id, status: 404, type: 'application/problem+json' });
    }
  });

  it('answers 400 problem+json naming the id when it is longer than a path id may be', async () => {
    const reply = await call(ctx.stack, 'GET', `/journeys/${'j'.repeat(257)}`);
    expect(reply.status).toBe(400);
    expect(problemFields(reply)).toEqual(['id']);
  });

  it('finishes a run in flight on the version it started on, and starts new runs on the redeployed definition', async () => {
    await ctx.put('jv.started', shopper(1));
    await ctx.clock.advance(HOUR / 2);
    const redeployed = await ctx.stack.deployJourney(second);
    expect(redeployed.live).toEqual({ number: '2', arn: `${arn()}:2`, publishedAt: at(HOUR / 2) });
    await ctx.put('jv.started', shopper(2));
    await ctx.clock.advance(2 * HOUR);

    const runs = ctx.stack.executions.list({ journeyId: 'reminder' });
    expect(runs.map((r) => ({ profile: r.profileId, version: r.stateMachineVersionArn, alias: r.stateMachineAliasArn, status: r.status }))).toEqual([
      { profile: newProfileId('email', 'jv1@example.com'), version: `${arn()}:1`, alias: `${arn()}:live`, status: 'SUCCEEDED' },
      { profile: newProfileId('email', 'jv2@example.com'), version: `${arn()}:2`, alias: `${arn()}:live`, status: 'SUCCEEDED' },
    ]);
    // Named under the state machine, not the alias: what erasure and the re-entry check look up.
    expect(runs.every((r) => r.executionArn.startsWith(`${arn().replace(':stateMachine:', ':execution:')}:reminder--`))).toBe(true);
    const messages = ctx.stack.outbox.list({ journeyId: 'reminder' });
    expect(subjects(messages, newProfileId('email', 'jv1@example.com'))).toEqual(['First definition']);
    expect(subjects(messages, newProfileId('email', 'jv2@example.com'))).toEqual(['Second definition']);

    const journeys = await call(ctx.stack, 'GET', '/journeys');
    expect(journeys.body.journeys).toEqual([expect.objectContaining({ id: 'reminder', version: second.version, liveVersion: 2 })]);
    const listed = await call(ctx.stack, 'GET', '/local/executions?journeyId=reminder');
    expect(listed.body.executions.map((e: { stateMachineVersionArn: string }) => e.stateMachineVersionArn)).toEqual([`${arn()}:1`, `${arn()}:2`]);
    const reply = await call(ctx.stack, 'GET', '/journeys/reminder');
    expect(reply.body).toMatchObject({ version: second.version, live: { version: 2, versionArn: `${arn()}:2`, publishedAt: at(HOUR / 2) } });
  });

  it('publishes nothing when the same definition is deployed again', async () => {
    const again = await ctx.stack.deployJourney(second);
    expect(again.live.number).toBe('2');
    expect(ctx.stack.executions.versionsOf('reminder').map((v) => v.number)).toEqual(['1', '2']);
  });

  it('rolls back by redeploying the previous file: a new version of the earlier definition goes live', async () => {
    const rolledBack = await ctx.stack.deployJourney(reminder('First definition'));
    expect(rolledBack.live.number).toBe('3');
    const reply = await call(ctx.stack, 'GET', '/journeys/reminder');
    expect(reply.body).toMatchObject({ version: first.version, live: { version: 3, versionArn: `${arn()}:3` } });
    await ctx.put('jv.started', shopper(3));
    await ctx.clock.advance(2 * HOUR);
    expect(subjects(ctx.stack.outbox.list({ journeyId: 'reminder' }), newProfileId('email', 'jv3@example.com'))).toEqual(['First definition']);
  });

  it('stops a run started on the alias when its profile is erased', async () => {
    await ctx.put('jv.started', shopper(4));
    const profileId = newProfileId('email', 'jv4@example.com');
    const [run] = ctx.stack.executions.list({ journeyId: 'reminder', profileId });
    expect(run).toMatchObject({ status: 'RUNNING', stateMachineAliasArn: `${arn()}:live` });
    const erased = await call(ctx.stack, 'DELETE', `/profiles/${profileId}`);
    expect(erased.status).toBe(200);
    expect(erased.body.stoppedExecutions).toEqual([run.executionArn]);
    expect(ctx.stack.executions.get(run.executionArn)?.status).toBe('ABORTED');
  });
});
