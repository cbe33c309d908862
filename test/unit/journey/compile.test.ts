import { basename } from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import { compileJourney, journeyVersion, toChoiceRule, type AslDefinition, type AslState, type Condition } from '../../../lambdas/core/journey';
import { aslSuccessors } from '../../../lambdas/core/journey/cost';
import { baseJourney, everyNodeKind, FIXTURES, journeyFiles, mustValidate, PLAYBOOKS, readJson } from './fixtures';

const compiled = () => compileJourney(everyNodeKind());
const state = (asl: AslDefinition, name: string): AslState => {
  const found = asl.States[name];
  if (!found) throw new Error(`no state "${name}" in ${Object.keys(asl.States).join(', ')}`);
  return found;
};

describe('compileJourney', () => {
  it('names one state per node plus the suffixed states of its kind', () => {
    const send = (id: string) => [
      ...[id, `${id}.route`, `${id}.defer`, `${id}.deliver`, `${id}.record`, `${id}.failed`, `${id}.release`],
      ...[`${id}.unknown`, `${id}.tally`, `${id}.count`],
    ];
    expect(Object.keys(compiled().States).sort()).toEqual(
      [
        ...send('welcome-email'),
        'wait-for-login',
        'check-tier',
        'check-tier.branch',
        ...send('gold-push'),
        'pause',
        'check-login',
        'reminder-test',
        'reminder-test.branch',
        'reminder-test.holdout',
        ...send('nudge-sms'),
        'event-day-before',
        'event-day-before.wait',
        'done',
      ].sort(),
    );
  });

  it('starts at the start node and gives every state a known successor or an end', () => {
    const asl = compiled();
    expect(asl.StartAt).toBe('welcome-email');
    for (const [name, s] of Object.entries(asl.States)) {
      for (const target of aslSuccessors(s)) expect([name, asl.States[target] ? 'known' : `unknown ${target}`]).toEqual([name, 'known']);
      if (s.Type === 'Succeed') expect(aslSuccessors(s)).toEqual([]);
      else expect(aslSuccessors(s).length).toBeGreaterThan(0);
    }
  });

  it.each<[state: string, field: string, expected: unknown]>([
    ['welcome-email', 'ResultPath', '$.steps.welcome_email'],
    ['welcome-email.route', 'Choices', [
      { Variable: '$.steps.welcome_email.deliver', BooleanEquals: true, Next: 'welcome-email.deliver' },
      { Variable: '$.steps.welcome_email.deferUntil', IsString: true, Next: 'welcome-email.defer' },
    ]],
    ['welcome-email.defer', 'Type', 'Wait'],
    ['welcome-email.defer', 'TimestampPath', '$.steps.welcome_email.deferUntil'],
    ['welcome-email.defer', 'Next', 'welcome-email'],
    ['welcome-email.route', 'Default', 'wait-for-login'],
    ['welcome-email.deliver', 'ResultPath', '$.steps.welcome_email.delivery'],
    ['welcome-email.deliver', 'Catch', [
      { ErrorEquals: expect.arrayContaining(['SesV2.MessageRejectedException']), ResultPath: '$.steps.welcome_email.error', Next: 'welcome-email.failed' },
      { ErrorEquals: ['States.ALL'], ResultPath: '$.steps.welcome_email.error', Next: 'welcome-email.unknown' },
    ]],
    ['welcome-email.record', 'ResultPath', '$.steps.welcome_email'],
    ['welcome-email.record', 'ResultSelector', { deliver: true, status: 'sent', tally: 'sent#channel=email&node=welcome-email' }],
    ['welcome-email.failed', 'ResultSelector', { deliver: true, status: 'failed', tally: 'failed#channel=email&node=welcome-email&reason=failed' }],
    // A refused delivery gives its cap slot back, then its outcome is tallied (the release keeps the step's data).
    ['welcome-email.failed', 'Next', 'welcome-email.release'],
    ['welcome-email.release', 'ResultPath', null],
    ['welcome-email.release', 'Next', 'welcome-email.tally'],
    ['welcome-email.release', 'Catch', [{ ErrorEquals: ['States.ALL'], ResultPath: null, Next: 'welcome-email.tally' }]],
    ['welcome-email.unknown', 'Next', 'welcome-email.tally'],
    ['welcome-email.count', 'Next', 'wait-for-login'],
    ['wait-for-login', 'ResultPath', '$.steps.wait_for_login'],
    ['wait-for-login', 'Next', 'check-tier'],
    ['wait-for-login', 'Catch', [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.steps.wait_for_login', Next: 'nudge-sms' }]],
    ['check-tier', 'ResultPath', '$.profile'],
    ['check-tier', 'Next', 'check-tier.branch'],
    ['check-tier.branch', 'Default', 'pause'],
    ['event-day-before', 'ResultPath', '$.steps.event_day_before'],
    ['event-day-before.wait', 'TimestampPath', '$.steps.event_day_before.until'],
    ['event-day-before.wait', 'Next', 'done'],
    ['reminder-test', 'InputPath', '$.variants.reminder_test'],
    ['reminder-test', 'ResultPath', '$.variant'],
    ['reminder-test', 'Next', 'reminder-test.branch'],
    ['reminder-test.branch', 'Choices', [
      { Variable: '$.variant', StringEquals: 'day-before', Next: 'event-day-before' },
      { Variable: '$.variant', StringEquals: 'none', Next: 'done' },
      { Variable: '$.variant', StringEquals: 'holdout', Next: 'reminder-test.holdout' },
    ]],
    ['reminder-test.holdout', 'Type', 'Succeed'],
    ['pause', 'Seconds', 129600],
    ['pause', 'Type', 'Wait'],
    ['done', 'Type', 'Succeed'],
  ])('compiles %s with %s', (name, field, expected) => {
    expect(state(compiled(), name)[field]).toEqual(expected);
  });

  it('sends email with SES, SMS with End User Messaging SMS and push with Pinpoint', () => {
    const asl = compiled();
    const push = (state(asl, 'gold-push.deliver').Branches as AslDefinition[])[0].States['gold-push.send'];
    expect([state(asl, 'welcome-email.deliver').Resource, state(asl, 'nudge-sms.deliver').Resource, push.Resource]).toEqual([
      'arn:aws:states:::aws-sdk:sesv2:sendEmail',
      'arn:aws:states:::aws-sdk:pinpointsmsvoicev2:sendTextMessage',
      'arn:aws:states:::aws-sdk:pinpoint:sendMessages',
    ]);
  });

  it("sends an SMS from the stage's origination identity and configuration set, with the context its status events return", () => {
    expect(state(compiled(), 'nudge-sms.deliver').Parameters).toEqual({
      'DestinationPhoneNumber.$': '$.steps.nudge_sms.message.to',
      OriginationIdentity: '${SmsOriginationIdentity}',
      'MessageBody.$': '$.steps.nudge_sms.message.body',
      MessageType: 'PROMOTIONAL',
      ConfigurationSetName: '${SmsConfigurationSet}',
      Context: {
        'journey.$': '$.steps.nudge_sms.message.context.journey',
        'node.$': '$.steps.nudge_sms.message.context.node',
        'variant.$': '$.steps.nudge_sms.message.context.variant',
        'execution.$': '$.steps.nudge_sms.message.context.execution',
        configurationSet: '${SmsConfigurationSet}',
      },
    });
    expect(state(compiled(), 'nudge-sms.deliver').ResultSelector).toEqual({ 'messageId.$': '$.MessageId' });
  });

  it.each<[string, Record<string, unknown> | undefined]>([
    ['no settings', undefined],
    ['settings without a message class', { reentry: 'always', timeout: '1d' }],
  ])('sends an API-triggered journey with %s as marketing (opt-outs apply, unsubscribe headers)', (_name, settings) => {
    const asl = compileJourney(mustValidate({ ...baseJourney(), ...(settings ? { settings } : {}) }));
    expect((state(asl, 'hello').Parameters as { Payload: { messageClass: string } }).Payload.messageClass).toBe('marketing');
    expect(JSON.stringify(state(asl, 'hello.deliver').Parameters)).toContain('"Headers.$"');
  });

  it('compiles condition branches in order to Choice rules, with the default last', () => {
    const asl = compiled();
    expect(state(asl, 'check-tier.branch').Choices).toEqual([
      {
        And: [
          { Variable: '$.profile.attributes.tier', IsPresent: true },
          { Variable: '$.profile.attributes.tier', IsString: true },
          { Variable: '$.profile.attributes.tier', StringEquals: 'gold' },
        ],
        Next: 'gold-push',
      },
      {
        And: [
          { Variable: '$.profile.attributes.points', IsPresent: true },
          { Variable: '$.profile.attributes.points', IsNumeric: true },
          { Variable: '$.profile.attributes.points', NumericGreaterThanEquals: 1000 },
        ],
        Next: 'gold-push',
      },
    ]);
  });

  it('decides a condition that reads no profile attribute in a single Choice state', () => {
    const check = state(compiled(), 'check-login');
    expect(check.Type).toBe('Choice');
    expect(check.Default).toBe('reminder-test');
    expect(compiled().States['check-login.branch']).toBeUndefined();
  });

  it('sets the global timeout from the settings, and 91 days by default', () => {
    expect(compiled().TimeoutSeconds).toBe(60 * 86400);
    expect(compileJourney(mustValidate(baseJourney())).TimeoutSeconds).toBe(91 * 86400);
  });

  it('times out a wait-for-event after its timeout', () => {
    expect(state(compiled(), 'wait-for-login').TimeoutSeconds).toBe(3 * 86400);
  });

  it('retries a crashed register-wait like any Lambda step, and never retries the wait timing out', () => {
    const retry = state(compiled(), 'wait-for-login').Retry as { ErrorEquals: string[]; MaxAttempts: number }[];
    // The first retrier whose ErrorEquals matches applies: a timeout meets MaxAttempts 0 and goes to its Catch.
    expect(retry[0]).toEqual({ ErrorEquals: ['States.Timeout'], MaxAttempts: 0 });
    expect(retry[1]).toMatchObject({ ErrorEquals: expect.arrayContaining(['States.TaskFailed', 'Lambda.ServiceException']), MaxAttempts: 4 });
  });

  it('gives the same definition and version for the same journey, whatever the key order of the file', () => {
    const raw = readJson(`${PLAYBOOKS}/cart-abandonment.json`);
    const reversed = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.map(reversed)
        : value && typeof value === 'object'
          ? Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversed(v)]))
          : value;
    const a = compileJourney(mustValidate(raw));
    const b = compileJourney(mustValidate(reversed(raw)));
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(journeyVersion(b)).toBe(journeyVersion(a));
  });

  it('changes the version when the behaviour changes', () => {
    const draft = baseJourney();
    const before = journeyVersion(compileJourney(mustValidate(draft)));
    draft.nodes[0].duration = '2h';
    expect(journeyVersion(compileJourney(mustValidate(draft)))).not.toBe(before);
  });

  const files = [...journeyFiles(PLAYBOOKS), `${FIXTURES}/every-node-kind.json`].map((f) => [basename(f), f]);

  it.each(files)('emits only the JSONPath dialect for %s', (_name, file) => {
    const jsonataKeys = new Set(['QueryLanguage', 'Assign', 'Arguments', 'Output', 'Condition', 'Items']);
    const offending: string[] = [];
    const walk = (value: unknown, at: string, insideNode: boolean): void => {
      if (typeof value === 'string' && value.startsWith('{%')) offending.push(`${at}: JSONata expression`);
      if (!value || typeof value !== 'object') return;
      for (const [key, child] of Object.entries(value)) {
        // The journey node travels as data in Parameters.Payload.node; only the state machine's own keys matter.
        if (!insideNode && jsonataKeys.has(key)) offending.push(`${at}.${key}`);
        if (!insideNode && key.endsWith('.$') && typeof child === 'string' && !/^(\$|States\.)/.test(child)) offending.push(`${at}.${key}: not a path`);
        walk(child, `${at}.${key}`, insideNode || key === 'node');
      }
    };
    walk(compileJourney(mustValidate(readJson(file))), '$', false);
    expect(offending).toEqual([]);
  });

  it.each(files)('produces a definition the local Step Functions runner accepts for %s', (_name, file) => {
    const asl = compileJourney(mustValidate(readJson(file)));
    expect(() => new StateMachine(asl as never)).not.toThrow();
  });
});

describe('toChoiceRule', () => {
  it.each<[Condition, unknown]>([
    [{ path: 'event.total', op: 'gt', value: 50 }, { And: [{ Variable: '$.event.total', IsPresent: true }, { Variable: '$.event.total', IsNumeric: true }, { Variable: '$.event.total', NumericGreaterThan: 50 }] }],
    [{ path: 'event.total', op: 'lte', value: 5.5 }, { And: [{ Variable: '$.event.total', IsPresent: true }, { Variable: '$.event.total', IsNumeric: true }, { Variable: '$.event.total', NumericLessThanEquals: 5.5 }] }],
    [{ path: 'profile.name', op: 'lt', value: 'm' }, { And: [{ Variable: '$.profile.name', IsPresent: true }, { Variable: '$.profile.name', IsString: true }, { Variable: '$.profile.name', StringLessThan: 'm' }] }],
    [{ path: 'context.vip', op: 'eq', value: true }, { And: [{ Variable: '$.context.vip', IsPresent: true }, { Variable: '$.context.vip', IsBoolean: true }, { Variable: '$.context.vip', BooleanEquals: true }] }],
    [{ path: 'context.n', op: 'ne', value: 1 }, { Not: { And: [{ Variable: '$.context.n', IsPresent: true }, { Variable: '$.context.n', IsNumeric: true }, { Variable: '$.context.n', NumericEquals: 1 }] } }],
    [
      { path: 'event.country', op: 'in', values: ['DE', 7] },
      {
        Or: [
          { And: [{ Variable: '$.event.country', IsPresent: true }, { Variable: '$.event.country', IsString: true }, { Variable: '$.event.country', StringEquals: 'DE' }] },
          { And: [{ Variable: '$.event.country', IsPresent: true }, { Variable: '$.event.country', IsNumeric: true }, { Variable: '$.event.country', NumericEquals: 7 }] },
        ],
      },
    ],
    [{ path: 'steps.x.y', op: 'exists' }, { And: [{ Variable: '$.steps.x.y', IsPresent: true }, { Not: { Variable: '$.steps.x.y', IsNull: true } }] }],
    [{ path: 'steps.x.y', op: 'missing' }, { Or: [{ Not: { Variable: '$.steps.x.y', IsPresent: true } }, { Variable: '$.steps.x.y', IsNull: true }] }],
    [
      { any: [{ path: 'event.a', op: 'exists' }, { not: { path: 'event.b', op: 'missing' } }] },
      {
        Or: [
          { And: [{ Variable: '$.event.a', IsPresent: true }, { Not: { Variable: '$.event.a', IsNull: true } }] },
          { Not: { Or: [{ Not: { Variable: '$.event.b', IsPresent: true } }, { Variable: '$.event.b', IsNull: true }] } },
        ],
      },
    ],
  ])('compiles %j', (condition, rule) => {
    expect(toChoiceRule(condition)).toEqual(rule);
  });
});
