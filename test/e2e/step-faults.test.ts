import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Placeholder } from '../../lambdas/core/journey/asl';
import { buildCatalog } from '../../lambdas/core/journey/catalog';
import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import type { LocalFunction } from '../../lambdas/local/executions';
import { LOCAL_TABLES, type LocalStack } from '../../lambdas/local/stack';
import { ledgerEntry } from './consent-support';
import { call } from './http';
import { openVirtualStack, parkedStates } from './local-stack';

/**
 * The fault suite's step faults on the local stack (issue 9): a Lambda step crashing at each point, DynamoDB throttling
 * the stores the Lambdas write (the profile store while routing, the wait index), and the ledger update failing for
 * good after the provider accepted the message. Every run passes load-profile, resolve-wait, register-wait and
 * prepare-send. What must hold: no message twice, no fact lost, every failure visible (a FAILED run, which the
 * ExecutionsFailed alarm of each state machine reports on AWS; a dead letter, which its queue's alarm reports).
 * On a virtual clock: a step's retries wait their intervals (no jitter), so each test says when the retried step ran.
 */
const journeys = buildCatalog([
  {
    path: 'step-faults.json',
    text: JSON.stringify({
      schemaVersion: 1,
      id: 'step-faults',
      name: 'Step faults',
      entry: { kind: 'event', event: 'fault.started' },
      settings: { messageClass: 'transactional', timeout: '40d' },
      start: 'check',
      nodes: [
        {
          id: 'check',
          kind: 'condition',
          branches: [{ when: { path: 'profile.identities.email', op: 'exists' }, next: 'until' }],
          default: 'done',
        },
        { id: 'until', kind: 'wait', until: 'event.properties.at', next: 'await' },
        { id: 'await', kind: 'wait-for-event', events: ['fault.confirmed'], timeout: '30d', onEvent: 'mail',
          onTimeout: 'done' },
        { id: 'mail', kind: 'send', channel: 'email', template: { subject: 'Confirmed', text: 'Thank you' },
          next: 'done' },
        { id: 'done', kind: 'exit' },
      ],
    }),
  },
]).journeys;

const STEPS: Record<string, Placeholder> = {
  'load-profile': Placeholder.loadProfileFunction,
  'resolve-wait': Placeholder.resolveWaitFunction,
  'register-wait': Placeholder.registerWaitFunction,
  'prepare-send': Placeholder.prepareSendFunction,
};

/** A crash of a Lambda step: before its handler runs, or after it ran (its writes done) but before it answered. */
interface Crash {
  point: 'before' | 'after';
  times: number;
}

const crashes = new Map<Placeholder, Crash>();
const calls = new Map<string, number>();

/** The test hook of the local stack: every Lambda step goes through here. */
const wrapFunction =
  (name: Placeholder, fn: LocalFunction): LocalFunction =>
  async (payload, context) => {
    const profileId = (payload as { state?: { profileId?: string } }).state?.profileId;
    calls.set(name, (calls.get(name) ?? 0) + 1);
    calls.set(`${name}#${profileId}`, (calls.get(`${name}#${profileId}`) ?? 0) + 1);
    const crash = crashes.get(name);
    const fire = (point: Crash['point']) => {
      if (crash?.point !== point || crash.times <= 0) return;
      crash.times--;
      // What Step Functions reports for a function that threw (errorType `Error`): matched by States.TaskFailed.
      throw new Error(`injected crash of ${name} ${point} it ran`);
    };
    fire('before');
    const out = await fn(payload, context);
    fire('after');
    return out;
  };

/** A throttle of the DynamoDB calls matching `matches` (the `times` first ones), before the SDK's own retries. */
type Matcher = (input: Record<string, unknown>) => boolean;

function throttle(client: DynamoDBClient, name: string, times: number, matches: Matcher) {
  const state = { throttled: 0 };
  client.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as Record<string, unknown>;
      if (state.throttled < times && matches(input)) {
        state.throttled++;
        throw Object.assign(new Error('The level of configured provisioned throughput for the table was exceeded.'), {
          name: 'ProvisionedThroughputExceededException',
          $fault: 'client',
        });
      }
      return next(args);
    },
    { step: 'initialize', name },
  );
  return { state, remove: () => client.middlewareStack.remove(name) };
}

const email = (n: number) => `step-faults${n}@example.com`;
const profileOf = (n: number) => newProfileId('email', email(n));

const SECOND = 1000;
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
/** The Retry intervals as the virtual clock waits them (IntervalSeconds x BackoffRate^n, no jitter), in ms. */
const LAMBDA_RETRIES = [1, 2, 4, 8].map((s) => s * SECOND);
const LEDGER_RETRIES = [1, 2, 4, 8, 16].map((s) => s * SECOND);
const sum = (ms: number[]) => ms.reduce((a, b) => a + b, 0);

/**
 * `openVirtualStack` with the test hook on every Lambda step (its options have no `wrapFunction`): a virtual clock,
 * so the time scale is unused, and `put` settles the stack.
 */
describe('step faults', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  let stack: LocalStack;
  let dynamo: DynamoDBClient;
  beforeAll(async () => {
    ctx = await openVirtualStack({ journeys, wrapFunction });
    stack = ctx.stack;
    dynamo = (stack.executions as unknown as { options: { dynamo: DynamoDBClient } }).options.dynamo;
  });
  afterAll(() => stack.stop());
  afterEach(() => {
    crashes.clear();
    calls.clear();
  });

  const start = (n: number) =>
    ctx.put('fault.started', {
      id: `fault-start-${n}`,
      identities: { email: email(n) },
      properties: { at: ctx.clock.now().toISOString() },
    });
  const confirm = (n: number) =>
    ctx.put('fault.confirmed', { id: `fault-confirm-${n}`, identities: { email: email(n) } });
  const runsOf = (n: number) => stack.executions.list({ journeyId: 'step-faults', profileId: profileOf(n) });
  /** The profile's one run, ended at the virtual time `at` and still running a millisecond before. */
  const endedAt = async (n: number, at: number) => {
    if (at > ctx.clock.nowMs()) {
      await ctx.clock.advanceTo(at - 1);
      expect(runsOf(n).map((r) => r.status)).toEqual(['RUNNING']);
      await ctx.clock.advanceTo(at);
    }
    const runs = runsOf(n);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: expect.not.stringMatching(/^RUNNING$/), stopDate: iso(at) });
    return runs[0];
  };
  /** Waits out the intervals of retried steps (`ms`): the run parks on `await` then, and not a millisecond before. */
  const parksAfter = async (n: number, ms: number) => {
    if (ms > 0) {
      await ctx.clock.advance(ms - 1);
      expect(await parkedStates(stack, 'step-faults', profileOf(n))).toEqual([]);
      await ctx.clock.advance(1);
    }
    expect(await parkedStates(stack, 'step-faults', profileOf(n))).toEqual(['await']);
  };
  /**
   * Starts the run, which parks on `await` `parked` ms later; confirms it then; and answers the run, which ended
   * `ended` ms after the confirmation.
   */
  const runThrough = async (n: number, { parked = 0, ended = 0 } = {}) => {
    await start(n);
    await parksAfter(n, parked);
    const confirmed = ctx.clock.nowMs();
    await confirm(n);
    return endedAt(n, confirmed + ended);
  };
  const mails = (n: number) => stack.outbox.list({ profileId: profileOf(n) });
  const times = (n: number) => mails(n).map((m) => m.time);

  describe('a Lambda step crashing', () => {
    it.each<[Crash['point'], number]>([
      ['before', 1],
      ['after', 2],
    ])('sends one message when prepare-send crashes once %s its ledger write, and records it sent', async (p, n) => {
      crashes.set(Placeholder.prepareSendFunction, { point: p, times: 1 });
      const t0 = ctx.clock.nowMs();
      const run = await runThrough(n, { ended: LAMBDA_RETRIES[0] });

      expect(run.status).toBe('SUCCEEDED');
      expect(calls.get(Placeholder.prepareSendFunction)).toBe(2);
      // Sent when the retry ran, a second after the confirmation.
      expect(times(n)).toEqual([iso(t0 + LAMBDA_RETRIES[0])]);
      expect(await ledgerEntry(stack, run.executionArn, 'mail')).toMatchObject({ status: 'sent' });
    });

    it.each([
      ['load-profile', 3],
      ['resolve-wait', 4],
      ['register-wait', 5],
    ])('retries %s a second after it crashed once, and the run ends as normal with one message', async (step, n) => {
      crashes.set(STEPS[step], { point: 'after', times: 1 });
      const t0 = ctx.clock.nowMs();
      const run = await runThrough(n, { parked: LAMBDA_RETRIES[0] });

      expect(run.status).toBe('SUCCEEDED');
      expect(calls.get(STEPS[step])).toBe(2);
      expect(times(n)).toEqual([iso(t0 + LAMBDA_RETRIES[0])]);
      expect(await ledgerEntry(stack, run.executionArn, 'mail')).toMatchObject({ status: 'sent' });
    });

    it.each([
      ['load-profile', 6],
      ['resolve-wait', 7],
      ['register-wait', 8],
    ])('fails the run, visibly and with no message, when %s crashes on every attempt', async (step, n) => {
      crashes.set(STEPS[step], { point: 'before', times: Infinity });
      const t0 = ctx.clock.nowMs();
      await start(n);
      // Failed when the last retry (after 1 + 2 + 4 + 8 s) crashed too.
      const run = await endedAt(n, t0 + sum(LAMBDA_RETRIES));

      // On AWS a FAILED run raises the state machine's ExecutionsFailed alarm (test/infra/app-stack.test.ts).
      expect(run.status).toBe('FAILED');
      expect(run.error).toMatch(/injected crash/);
      // The first attempt and the Retry's four.
      expect(calls.get(STEPS[step])).toBe(5);
      expect(mails(n)).toEqual([]);
    });

    it('fails the run, visibly and sending nothing, when prepare-send crashes after its ledger write each time', async () => {
      crashes.set(Placeholder.prepareSendFunction, { point: 'after', times: Infinity });
      const run = await runThrough(9, { ended: sum(LAMBDA_RETRIES) });

      expect(run.status).toBe('FAILED');
      expect(calls.get(Placeholder.prepareSendFunction)).toBe(5);
      expect(mails(9)).toEqual([]);
      // Prepared, never sent: a redriven run (RedriveExecution) may still send it, once.
      expect(await ledgerEntry(stack, run.executionArn, 'mail')).toMatchObject({ status: 'prepared' });
    });
  });

  it('runs no step of a stopped run: its wait is not registered again', async () => {
    await start(16);
    expect(await parkedStates(stack, 'step-faults', profileOf(16))).toEqual(['await']);
    const [run] = stack.executions.list({ profileId: profileOf(16) });
    expect(await stack.executions.stop(run.executionArn)).toBe(true);
    await stack.settle();

    expect(stack.executions.get(run.executionArn)?.status).toBe('ABORTED');
    expect(calls.get(`${Placeholder.registerWaitFunction}#${profileOf(16)}`)).toBe(1);
    expect(stack.executions.waitingCount()).toBe(0);
    // Its wait's timeout died with it: nothing of the run happens when the 30 days have passed.
    await ctx.clock.advance('30d');
    expect(stack.executions.get(run.executionArn)?.status).toBe('ABORTED');
    expect(calls.get(`${Placeholder.registerWaitFunction}#${profileOf(16)}`)).toBe(1);
  });

  describe('the ledger update failing for good after the provider accepted the message', () => {
    it('does not send the message again, and fails the run visibly with the ledger still prepared', async () => {
      const ledgerKeys: Matcher = (input) => JSON.stringify(input.Key ?? {}).includes('LEDGER#');
      const ledger = throttle(dynamo, 'throttle-ledger-for-good', Infinity, ledgerKeys);
      try {
        const t0 = ctx.clock.nowMs();
        // Failed when the last retry of the update (after 1 + 2 + 4 + 8 + 16 s) was throttled too.
        const run = await runThrough(10, { ended: sum(LEDGER_RETRIES) });

        expect(run.status).toBe('FAILED');
        expect(run.error).toMatch(/provisioned throughput/);
        // The first update and the Retry's five.
        expect(ledger.state.throttled).toBe(6);
        expect(times(10)).toEqual([iso(t0)]);
      } finally {
        ledger.remove();
      }
      const [run] = stack.executions.list({ profileId: profileOf(10) });
      expect(await ledgerEntry(stack, run.executionArn, 'mail')).toMatchObject({ status: 'prepared' });
    });
  });

  describe('DynamoDB throttling the stores of the Lambda steps', () => {
    const profileItems = (n: number) => (input: Record<string, unknown>) =>
      input.TableName === LOCAL_TABLES.profiles && JSON.stringify(input).includes(email(n));
    const waitItems: Matcher = (input) =>
      input.TableName === LOCAL_TABLES.runtime && JSON.stringify(input).includes('WAIT#');
    const waitLookups: Matcher = (input) => waitItems(input) && input.KeyConditionExpression !== undefined;
    const computedCount = async (n: number, type: string) =>
      (await stack.profiles.get(profileOf(n)))?.computed?.[type]?.count;
    const deadLettersOf = (id: string) =>
      stack.bus.deadLetters.filter((d) => (d.event.detail as { id?: string }).id === id);
    const deadLetter = { rule: 'route-events', error: expect.stringMatching(/throughput/) };
    /** A redrive from the dead-letter queue: the same event, put on the bus again. */
    const redrive = async (id: string) => {
      const [letter] = deadLettersOf(id);
      const { source, 'detail-type': type, detail, time } = letter.event;
      stack.bus.putEvents([{ Source: source, DetailType: type, Detail: JSON.stringify(detail), Time: time }]);
      await stack.settle();
    };

    it('applies an event once and starts its run when the profile store throttled its routing twice', async () => {
      const profiles = throttle(dynamo, 'throttle-profiles-twice', 2, profileItems(11));
      try {
        const run = await runThrough(11);
        expect(profiles.state.throttled).toBe(2);
        expect(run.status).toBe('SUCCEEDED');
      } finally {
        profiles.remove();
      }
      expect(await computedCount(11, 'fault.started')).toBe(1);
      expect(deadLettersOf('fault-start-11')).toEqual([]);
      expect(mails(11)).toHaveLength(1);
    });

    it('dead-letters an event with its reason when the profile store throttles each delivery; a redrive applies it once', async () => {
      const profiles = throttle(dynamo, 'throttle-profiles-for-good', Infinity, profileItems(12));
      try {
        await start(12);
      } finally {
        profiles.remove();
      }
      // On AWS: route-event's dead-letter queue and its alarm (test/infra/app-stack.test.ts).
      expect(deadLettersOf('fault-start-12')).toEqual([expect.objectContaining(deadLetter)]);
      expect(stack.executions.list({ profileId: profileOf(12) })).toEqual([]);

      await redrive('fault-start-12');
      await redrive('fault-start-12');
      expect(await parkedStates(stack, 'step-faults', profileOf(12))).toEqual(['await']);
      expect(await computedCount(12, 'fault.started')).toBe(1);
      expect(stack.executions.list({ profileId: profileOf(12) })).toHaveLength(1);
    });

    it('registers a wait again a second after the wait index throttled it; the awaited event resumes the run', async () => {
      const ofProfile: Matcher = (input) => waitItems(input) && JSON.stringify(input).includes(profileOf(13));
      const waits = throttle(dynamo, 'throttle-register-wait', 1, ofProfile);
      try {
        const run = await runThrough(13, { parked: LAMBDA_RETRIES[0] });
        expect(waits.state.throttled).toBe(1);
        expect(run.status).toBe('SUCCEEDED');
        expect(run.path).toContain('mail');
      } finally {
        waits.remove();
      }
      expect(mails(13)).toHaveLength(1);
    });

    it('resumes the run once when the wait index throttled the lookup of the awaited event twice', async () => {
      await start(14);
      expect(await parkedStates(stack, 'step-faults', profileOf(14))).toEqual(['await']);
      const confirmed = ctx.clock.nowMs();
      const lookups = throttle(dynamo, 'throttle-resume-lookup', 2, waitLookups);
      try {
        await confirm(14);
      } finally {
        lookups.remove();
      }
      const run = await endedAt(14, confirmed);
      expect(lookups.state.throttled).toBe(2);
      expect(run.status).toBe('SUCCEEDED');
      expect(await computedCount(14, 'fault.confirmed')).toBe(1);
      expect(mails(14)).toHaveLength(1);
    });

    it('dead-letters the awaited event when the wait index throttles every lookup; a redrive resumes the run once', async () => {
      await start(15);
      expect(await parkedStates(stack, 'step-faults', profileOf(15))).toEqual(['await']);
      const lookups = throttle(dynamo, 'throttle-resume-lookup-for-good', Infinity, waitLookups);
      try {
        await confirm(15);
      } finally {
        lookups.remove();
      }
      expect(deadLettersOf('fault-confirm-15')).toEqual([expect.objectContaining(deadLetter)]);
      expect(stack.executions.list({ profileId: profileOf(15) })[0].status).toBe('RUNNING');

      const redriven = ctx.clock.nowMs();
      await redrive('fault-confirm-15');
      await redrive('fault-confirm-15');
      const run = await endedAt(15, redriven);
      expect(run.status).toBe('SUCCEEDED');
      expect(await computedCount(15, 'fault.confirmed')).toBe(1);
      expect(mails(15)).toHaveLength(1);
    });
  });
});

describe('a wait-for-event timing out', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => (ctx = await openVirtualStack({ journeys, wrapFunction })));
  afterAll(() => ctx.stack.stop());
  afterEach(() => calls.clear());

  it('registers the wait once and takes the 30-day timeout branch: a timeout is never retried like a crash', async () => {
    const t0 = ctx.clock.nowMs();
    const at = ctx.clock.now().toISOString();
    await ctx.put('fault.started', { id: 'fault-timeout-1', identities: { email: email(21) }, properties: { at } });
    await ctx.clock.advance(30 * DAY - 1);
    expect(await parkedStates(ctx.stack, 'step-faults', profileOf(21))).toEqual(['await']);
    await ctx.clock.advance(1);
    const [run] = ctx.stack.executions.list({ journeyId: 'step-faults', profileId: profileOf(21) });

    expect(run.status).toBe('SUCCEEDED');
    expect(run.path).toEqual(['check', 'check.branch', 'until', 'until.wait', 'await', 'done']);
    expect(run.trail.find((s) => s.state === 'done')?.at).toBe(iso(t0 + 30 * DAY));
    expect(calls.get(`${Placeholder.registerWaitFunction}#${profileOf(21)}`)).toBe(1);
  });
});

describe('the same event delivered again', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => (ctx = await openVirtualStack({ journeys })));
  afterAll(() => ctx.stack.stop());

  /** One PutEvents request carrying the same event `copies` times: the bus delivers them concurrently. */
  const deliver = async (copies: number, type: string, detail: Record<string, unknown>) => {
    const entry = { Source: 'test.shop', DetailType: type, Detail: JSON.stringify(detail), Time: String(detail.time) };
    const out = ctx.stack.bus.putEvents(Array.from({ length: copies }, () => entry));
    expect(out.FailedEntryCount).toBe(0);
    await ctx.stack.settle();
  };

  it.each([2, 3, 4, 5])(
    'applies an event and its awaited event once and sends one message when each comes %i times at once, again 13 days on',
    async (copies) => {
      const n = 30 + copies;
      const at = ctx.clock.now().toISOString();
      const started = { id: `dup-start-${n}`, time: at, identities: { email: email(n) }, properties: { at } };
      const confirmed = { id: `dup-confirm-${n}`, time: at, identities: { email: email(n) } };
      await deliver(copies, 'fault.started', started);
      expect(await parkedStates(ctx.stack, 'step-faults', profileOf(n))).toEqual(['await']);
      await deliver(copies, 'fault.confirmed', confirmed);
      const runs = ctx.stack.executions.list({ journeyId: 'step-faults', profileId: profileOf(n) });
      expect(runs.map((r) => r.status)).toEqual(['SUCCEEDED']);

      // The dead-letter queue keeps a message 14 days: redriven after 13, both are facts already applied.
      await ctx.clock.advance('13d');
      await deliver(1, 'fault.started', started);
      await deliver(1, 'fault.confirmed', confirmed);

      const profile = await ctx.stack.profiles.get(profileOf(n));
      const counts = [profile?.computed?.['fault.started']?.count, profile?.computed?.['fault.confirmed']?.count];
      expect(counts).toEqual([1, 1]);
      expect(ctx.stack.executions.list({ profileId: profileOf(n) })).toHaveLength(1);
      expect(ctx.stack.outbox.list({ profileId: profileOf(n) }).map((m) => m.time)).toEqual([at]);
      expect(ctx.stack.bus.deadLetters).toEqual([]);
      // Taken as facts already applied, not refused as invalid (13 days old).
      expect((await call(ctx.stack, 'GET', '/events/rejected')).body.events).toEqual([]);
    },
  );
});
