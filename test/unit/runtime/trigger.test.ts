import { ConflictError, NotFoundError, ValidationError } from '../../../lambdas/core/runtime/errors';
import { executionName } from '../../../lambdas/core/runtime/enter';
import { MAX_TRIGGER_CONTEXT_BYTES, triggerJourney } from '../../../lambdas/core/runtime/trigger';
import { journeyRecord, runtime } from './fakes';

function setup() {
  const outreach = journeyRecord({ id: 'outreach', entry: { kind: 'api' } });
  const welcome = journeyRecord({ id: 'welcome', entry: { kind: 'event', event: 'user.signed_up' } });
  const deps = runtime([outreach, welcome]);
  deps.profiles.add({ id: 'p-1', identities: { email: 'ada@example.com' } });
  return deps;
}

type Deps = ReturnType<typeof setup>;

function expectNothingWritten(deps: Deps) {
  expect(deps.profiles.writes).toEqual([]);
  expect(deps.enrollments.calls).toEqual([]);
  expect(deps.executions.executions.size).toBe(0);
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('triggerJourney', () => {
  const bigContext = { blob: 'x'.repeat(MAX_TRIGGER_CONTEXT_BYTES) };
  const badBodies: { name: string; body: unknown; fields: string[] }[] = [
    { name: 'both profileId and identities', body: { profileId: 'p-1', identities: { email: 'ada@example.com' } }, fields: ['profileId'] },
    { name: 'neither profileId nor identities', body: { context: { a: 1 } }, fields: ['profileId'] },
    { name: 'no body at all', body: undefined, fields: ['profileId'] },
    { name: 'a context over 64 KB of JSON', body: { profileId: 'p-1', context: bigContext }, fields: ['context'] },
    { name: 'an unknown key', body: { profileId: 'p-1', profileID: 'p-1' }, fields: ['profileID'] },
    { name: 'two unknown keys', body: { profileId: 'p-1', foo: 1, bar: 2 }, fields: ['foo', 'bar'] },
    { name: 'an empty profileId', body: { profileId: '' }, fields: ['profileId'] },
    { name: 'a bad identity namespace', body: { identities: { '1email': 'x' } }, fields: ['identities.1email'] },
    { name: 'empty identities', body: { identities: {} }, fields: ['identities'] },
    { name: 'a context that is not an object', body: { profileId: 'p-1', context: [1, 2] }, fields: ['context'] },
    { name: 'a body that is not an object', body: 'p-1', fields: ['(root)'] },
  ];

  it.each(badBodies)('rejects $name with a ValidationError naming $fields, writing nothing', async ({ body, fields }) => {
    const deps = setup();
    const error = await caught(triggerJourney(deps, 'outreach', body, 'req-1'));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).name).toBe('ValidationError');
    expect([...new Set((error as ValidationError).errors.map((e) => e.field))].sort()).toEqual([...fields].sort());
    expectNothingWritten(deps);
  });

  it('accepts a context of exactly 64 KB of JSON', async () => {
    const deps = setup();
    const context = { b: 'x'.repeat(MAX_TRIGGER_CONTEXT_BYTES - '{"b":""}'.length) };
    expect(Buffer.byteLength(JSON.stringify(context))).toBe(MAX_TRIGGER_CONTEXT_BYTES);
    expect((await triggerJourney(deps, 'outreach', { profileId: 'p-1', context }, 'req-1')).status).toBe('started');
  });

  it.each([
    { name: 'an unknown journey, by profile id', journeyId: 'nope', body: { profileId: 'p-1' } },
    { name: 'an unknown journey, by identities', journeyId: 'nope', body: { identities: { email: 'new@example.com' } } },
    { name: 'an unknown profile', journeyId: 'outreach', body: { profileId: 'p-404' } },
  ])('rejects $name with a NotFoundError, writing nothing', async ({ journeyId, body }) => {
    const deps = setup();
    const error = await caught(triggerJourney(deps, journeyId, body, 'req-1'));
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).name).toBe('NotFoundError');
    expectNothingWritten(deps);
  });

  it.each([{ profileId: 'p-1' }, { identities: { email: 'new@example.com' } }])('rejects a journey that starts on events with a ConflictError, writing nothing (%p)', async (body) => {
    const deps = setup();
    const error = await caught(triggerJourney(deps, 'welcome', body, 'req-1'));
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).name).toBe('ConflictError');
    expect((error as Error).message).toContain('welcome');
    expectNothingWritten(deps);
  });

  it('starts the journey for a known profile with the context, named by the request id', async () => {
    const deps = setup();
    const outcome = await triggerJourney(deps, 'outreach', { profileId: 'p-1', context: { reason: 'renewal' } }, 'req-1');
    expect(outcome).toMatchObject({ status: 'started', executionName: executionName('outreach', 'p-1', 'req-1') });
    const [execution] = deps.executions.executions.values();
    expect(execution.input.context).toEqual({ reason: 'renewal' });
    expect(execution.input.event).toMatchObject({ id: 'req-1', type: 'journey.triggered', source: 'waymark.api' });
    expect(deps.profiles.writes).toEqual([]);
  });

  it('creates the profile of new identities, then starts the journey for it', async () => {
    const deps = setup();
    const outcome = await triggerJourney(deps, 'outreach', { identities: { email: 'new@example.com' } }, 'req-1');
    expect(outcome.status).toBe('started');
    expect(deps.profiles.writes.map((e) => e.identities)).toEqual([{ email: 'new@example.com' }]);
    const [execution] = deps.executions.executions.values();
    expect(execution.input.profile.id).toBe(execution.input.profileId);
    // Identities stay in the profile: the run carries its id.
    expect(execution.input.profile.identities).toEqual({});
  });

  it('starts one execution for two requests with the same idempotency key', async () => {
    const deps = setup();
    const first = await triggerJourney(deps, 'outreach', { profileId: 'p-1', idempotencyKey: 'renewal-2026' }, 'req-1');
    const again = await triggerJourney(deps, 'outreach', { profileId: 'p-1', idempotencyKey: 'renewal-2026' }, 'req-2');
    expect([first.status, again.status]).toEqual(['started', 'already-started']);
    expect(deps.executions.executions.size).toBe(1);
  });
});

describe('triggerJourney: journey versions', () => {
  it("starts the journey on its live alias; the run's ARN names the state machine", async () => {
    const deps = setup();
    const outreach = (await deps.journeys.get('outreach'))!;
    const outcome = await triggerJourney(deps, 'outreach', { profileId: 'p-1' }, 'req-1');
    const [run] = deps.executions.executions.values();
    expect(run.stateMachineArn).toBe(outreach.aliasArn);
    expect(outcome).toMatchObject({ status: 'started', executionArn: `${outreach.stateMachineArn.replace(':stateMachine:', ':execution:')}:${run.name}` });
  });
});
