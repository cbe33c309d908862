import { Metrics } from '@aws-lambda-powertools/metrics';
import { COUNTER, type CounterIncrement, type JourneyCounters } from '../../../lambdas/core/measure/counters';
import { journeyMetric, metricJourneyCounters, type JourneyMetric } from '../../../lambdas/core/measure/metrics';
import { emitJourneyMetric } from '../../../lambdas/shared/powertools';

const day = '2026-12-03';
const inc = (name: CounterIncrement['name'], dims: CounterIncrement['dims'] = {}, by?: number): CounterIncrement => ({
  journeyId: 'welcome',
  day,
  name,
  dims,
  ...(by === undefined ? {} : { by }),
});

/** A store that records what it added, or fails every add. */
function store(fail = false) {
  const added: CounterIncrement[] = [];
  const counters: JourneyCounters = {
    add: async (increments) => {
      if (fail) throw Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' });
      added.push(...increments);
    },
    read: async () => [],
  };
  return { added, counters };
}

describe('metricJourneyCounters', () => {
  it('emits one metric per increment after the store added them', async () => {
    const { added, counters } = store();
    const emitted: JourneyMetric[] = [];
    const metered = metricJourneyCounters(counters, (m) => {
      expect(added).toHaveLength(2); // the store has them before anything is emitted
      emitted.push(m);
    });
    await metered.add([inc(COUNTER.entered), inc(COUNTER.suppressed, { node: 'mail', channel: 'email', reason: 'opted-out' })]);
    expect(emitted.map((m) => [m.name, m.value])).toEqual([['Entered', 1], ['Suppressed', 1]]);
  });

  it('emits nothing when the store fails, and the failure reaches the caller', async () => {
    const emitted: JourneyMetric[] = [];
    const metered = metricJourneyCounters(store(true).counters, (m) => emitted.push(m));
    await expect(metered.add([inc(COUNTER.entered)])).rejects.toThrow('throttled');
    expect(emitted).toEqual([]);
  });

  it('counts although the emitter throws, and reports the error', async () => {
    const { added, counters } = store();
    const errors: unknown[] = [];
    const metered = metricJourneyCounters(counters, () => { throw new Error('stdout closed'); }, (e) => errors.push(e));
    await metered.add([inc(COUNTER.entered), inc(COUNTER.exited, { reason: 'completed' })]);
    expect(added).toHaveLength(2);
    expect(errors).toHaveLength(2);
  });

  it('reads through to the store', async () => {
    const read = jest.fn(async () => []);
    await metricJourneyCounters({ add: async () => {}, read }, () => {}).read('welcome', day, day);
    expect(read).toHaveBeenCalledWith('welcome', day, day);
  });
});

describe('journeyMetric', () => {
  it.each<[string, CounterIncrement, Partial<JourneyMetric> | undefined]>([
    ['an entry: per journey', inc(COUNTER.entered), { name: 'Entered', dimensionSets: [{}] }],
    ['a journey-holdout entry: per journey and variant', inc(COUNTER.entered, { variant: 'holdout' }), { dimensionSets: [{}, { Variant: 'holdout' }] }],
    ['an exit: per journey and reason', inc(COUNTER.exited, { reason: 'timeout' }), { name: 'Exited', dimensionSets: [{}, { Reason: 'timeout' }] }],
    [
      'a suppression: per journey, node and reason (not channel)',
      inc(COUNTER.suppressed, { node: 'mail', channel: 'email', reason: 'no-address' }),
      { dimensionSets: [{}, { Node: 'mail' }, { Reason: 'no-address' }] },
    ],
    [
      'an open: per journey and node (not variant, not agent)',
      inc(COUNTER.opened, { node: 'mail', channel: 'email', variant: 'b', agent: 'machine' }),
      { name: 'Opened', dimensionSets: [{}, { Node: 'mail' }] },
    ],
    ['the journey\'s conversion: per journey', inc(COUNTER.converted), { name: 'Converted', dimensionSets: [{}] }],
    [
      'a split\'s repeat of a conversion: per split variant only, never again per journey',
      inc(COUNTER.converted, { node: 'ab', variant: 'a' }),
      { dimensionSets: [{ Node: 'ab', Variant: 'a' }] },
    ],
    ['revenue: its amount, no unit', inc(COUNTER.revenue, {}, 42.5), { name: 'Revenue', unit: 'None', value: 42.5, dimensionSets: [{}] }],
    ['an assignment: per split variant', inc(COUNTER.assigned, { node: 'ab', variant: 'holdout' }), { name: 'Assigned', dimensionSets: [{ Node: 'ab', Variant: 'holdout' }] }],
    ['time to convert: report-only', inc(COUNTER.secondsToConvert, {}, 60), undefined],
    ['conversions after a click: report-only', inc(COUNTER.convertedAfterClick), undefined],
  ])('%s', (_, increment, expected) => {
    const metric = journeyMetric(increment);
    if (expected === undefined) expect(metric).toBeUndefined();
    else expect(metric).toMatchObject({ journeyId: 'welcome', unit: 'Count', value: 1, ...expected });
  });

  it.each(['', ' ', 'caf\u00e9', 'a\nb', 'x'.repeat(256), '\u0000'])('emits nothing for a journey id CloudWatch refuses (%j)', (journeyId) => {
    expect(journeyMetric({ ...inc(COUNTER.entered), journeyId })).toBeUndefined();
  });

  it('keeps hostile but valid ASCII ids as plain values', () => {
    const metric = journeyMetric({ ...inc(COUNTER.entered, { node: '__proto__', variant: 'constructor' }), journeyId: 'toString' });
    expect(metric).toMatchObject({ journeyId: 'toString', dimensionSets: [{}, { Node: '__proto__' }, { Variant: 'constructor' }] });
  });

  it('drops only the sets whose node or variant CloudWatch would refuse', () => {
    expect(journeyMetric(inc(COUNTER.clicked, { node: 'n\u0007' }))?.dimensionSets).toEqual([{}]);
    expect(journeyMetric(inc(COUNTER.entered, { variant: 'hold\nout' }))?.dimensionSets).toEqual([{}]);
    expect(journeyMetric(inc(COUNTER.converted, { node: '\t', variant: 'a' }))).toBeUndefined();
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, -1])('emits nothing for an amount of %p', (by) => {
    expect(journeyMetric(inc(COUNTER.revenue, {}, by))).toBeUndefined();
  });

  it('emits nothing for a counter name it does not know', () => {
    expect(journeyMetric({ ...inc(COUNTER.entered), name: 'hasOwnProperty' as CounterIncrement['name'] })).toBeUndefined();
  });
});

describe('emitJourneyMetric (Powertools EMF)', () => {
  it('writes one EMF record with every dimension set, each with the journey', () => {
    const previous = process.env.POWERTOOLS_METRICS_DISABLED;
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    const lines: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const metrics = new Metrics({ namespace: 'Waymark', serviceName: 'waymark' });
      emitJourneyMetric(journeyMetric(inc(COUNTER.suppressed, { node: 'mail', reason: 'opted-out' }))!, metrics);
    } finally {
      write.mockRestore();
      if (previous === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
      else process.env.POWERTOOLS_METRICS_DISABLED = previous;
    }
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0]);
    expect(record).toMatchObject({ Journey: 'welcome', Node: 'mail', Reason: 'opted-out', service: 'waymark', Suppressed: 1 });
    expect(record._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'Waymark',
        Dimensions: [['service', 'Journey'], ['service', 'Journey', 'Node'], ['service', 'Journey', 'Reason']],
        Metrics: [{ Name: 'Suppressed', Unit: 'Count' }],
      },
    ]);
  });
});
