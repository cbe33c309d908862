import { compileJourney, type AslDefinition } from '../../../lambdas/core/journey';
import { countTransitions, estimateCost, longestPath, STANDARD_USD_PER_TRANSITION } from '../../../lambdas/core/journey/cost';
import { baseJourney, everyNodeKind, mustValidate } from './fixtures';

const asl = (States: AslDefinition['States'], StartAt = 'a'): AslDefinition => ({ Comment: '', StartAt, TimeoutSeconds: 60, States });

describe('longestPath', () => {
  it.each<[string, AslDefinition, string[]]>([
    ['a single end state', asl({ a: { Type: 'Succeed' } }), ['a']],
    ['a chain', asl({ a: { Type: 'Wait', Seconds: 1, Next: 'b' }, b: { Type: 'Pass', Next: 'c' }, c: { Type: 'Succeed' } }), ['a', 'b', 'c']],
    [
      'the longer Choice branch',
      asl({
        a: { Type: 'Choice', Choices: [{ Variable: '$.x', IsPresent: true, Next: 'z' }], Default: 'b' },
        b: { Type: 'Wait', Seconds: 1, Next: 'z' },
        z: { Type: 'Succeed' },
      }),
      ['a', 'b', 'z'],
    ],
    [
      'a Catch target when it is longer',
      asl({
        a: { Type: 'Task', Resource: 'r', Next: 'z', Catch: [{ ErrorEquals: ['States.ALL'], Next: 'b' }] },
        b: { Type: 'Task', Resource: 'r', Next: 'z' },
        z: { Type: 'Succeed' },
      }),
      ['a', 'b', 'z'],
    ],
    ['a Fail state as the end', asl({ a: { Type: 'Task', Resource: 'r', Next: 'f' }, f: { Type: 'Fail' } }), ['a', 'f']],
  ])('follows %s', (_name, definition, path) => {
    expect(longestPath(definition)).toEqual(path);
    expect(countTransitions(definition)).toBe(path.length);
  });

  it('counts the compiled base journey: wait, prepare, route, deliver, failed, release, tally, count, exit and the condition', () => {
    // pause → is-vip → hello → hello.route → hello.deliver → hello.failed → hello.release (the cap slot given back)
    // → hello.tally → hello.count → done (hello.record or .unknown are one shorter)
    expect(countTransitions(compileJourney(mustValidate(baseJourney())))).toBe(10);
  });

  it('counts the longest branch of the fixture with every node kind', () => {
    expect(longestPath(compileJourney(everyNodeKind()))).toEqual([
      ...['welcome-email', 'welcome-email.route', 'welcome-email.deliver', 'welcome-email.failed', 'welcome-email.release'],
      ...['welcome-email.tally', 'welcome-email.count'],
      ...['wait-for-login', 'check-tier', 'check-tier.branch', 'gold-push', 'gold-push.route', 'gold-push.deliver'],
      // The push branch: SendMessages, its DeliveryStatus, and (longest) the failure it reports.
      ...['gold-push.send', 'gold-push.status', 'gold-push.not-delivered', 'gold-push.status-error', 'gold-push.failed'],
      ...['gold-push.release', 'gold-push.tally', 'gold-push.count', 'done'],
    ]);
  });

  it('counts the longest branch of a Parallel state', () => {
    const branch = (n: number): AslDefinition => asl(Object.fromEntries(Array.from({ length: n }, (_, i) => [`b${n}-${i}`, i === n - 1 ? { Type: 'Succeed' } : { Type: 'Pass', Next: `b${n}-${i + 1}` }])), `b${n}-0`);
    expect(countTransitions(asl({ a: { Type: 'Parallel', Branches: [branch(1), branch(3)], Next: 'z' }, z: { Type: 'Succeed' } }))).toBe(5);
  });

  it('counts a quiet-hours deferral (a Wait back to the send step) once', () => {
    const definition = asl({
      send: { Type: 'Task', Resource: 'r', Next: 'route' },
      route: { Type: 'Choice', Choices: [{ Variable: '$.d', IsString: true, Next: 'defer' }], Default: 'z' },
      defer: { Type: 'Wait', TimestampPath: '$.d', Next: 'send' },
      z: { Type: 'Succeed' },
    }, 'send');
    expect(longestPath(definition)).toEqual(['send', 'route', 'z']);
  });

  it('refuses a definition that loops or refers to a missing state', () => {
    expect(() => longestPath(asl({ a: { Type: 'Pass', Next: 'b' }, b: { Type: 'Pass', Next: 'a' } }))).toThrow(/loops through "a"/);
    expect(() => longestPath(asl({ a: { Type: 'Pass', Next: 'b' } }))).toThrow(/"b" is referred to but not defined/);
  });
});

describe('estimateCost', () => {
  it('prices a million entries of 10 transitions at $250 (Standard: $0.025 per 1,000)', () => {
    const chain = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`s${i}`, i === 9 ? { Type: 'Succeed' } : { Type: 'Pass', Next: `s${i + 1}` }]));
    const estimate = estimateCost(asl(chain, 's0'), 1_000_000);
    expect(estimate.transitionsPerEntry).toBe(10);
    expect(estimate.usd).toBeCloseTo(250, 9);
    expect(STANDARD_USD_PER_TRANSITION).toBe(0.000025);
  });
});
