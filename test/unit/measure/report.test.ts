import { COUNTER, type CounterTotal } from '../../../lambdas/core/measure/counters';
import { countRunEnd } from '../../../lambdas/core/measure/run-end';
import { buildReport } from '../../../lambdas/core/measure/report';
import { renderReportHtml, renderReportText } from '../../../lambdas/core/measure/render';
import { twoProportionTest } from '../../../lambdas/core/measure/stats';
import type { Journey } from '../../../lambdas/core/journey/schema';
import { memoryJourneyCounters, memoryOnceMarks, memoryPorts } from '../../../lambdas/local/memory-ports';
import { VirtualClock } from '../../../lambdas/local/virtual-clock';

const journey = (over: Partial<Journey> = {}): Journey =>
  ({
    schemaVersion: 1,
    id: 'j',
    name: 'J',
    entry: { kind: 'api' },
    settings: { reentry: 'never', timeout: '91d', messageClass: 'marketing' },
    goal: { event: 'order.placed', within: '7d' },
    start: 'hello',
    nodes: [
      { id: 'hello', kind: 'send', channel: 'email', template: { subject: 's', text: 't' }, next: 'done' },
      { id: 'done', kind: 'exit' },
    ],
    ...over,
  }) as Journey;

const t = (name: CounterTotal['name'], value: number, dims: CounterTotal['dims'] = {}, day = '2026-12-01'): CounterTotal => ({ day, name, dims, value });

describe('buildReport', () => {
  it("reports an SMS node's deliveries and carrier failures by status, apart from send failures and out of reached", () => {
    const sms = journey({ nodes: [{ id: 'hello', kind: 'send', channel: 'sms', template: { body: 'b' }, next: 'done' }, { id: 'done', kind: 'exit' }] } as never);
    const node = { node: 'hello', channel: 'sms' };
    const totals = [
      t(COUNTER.sent, 5, node),
      t(COUNTER.failed, 1, { ...node, reason: 'failed' }),
      t(COUNTER.delivered, 3, node),
      t(COUNTER.undelivered, 1, { ...node, reason: 'BLOCKED' }),
      t(COUNTER.undelivered, 1, { ...node, reason: 'INVALID' }),
    ];
    const [hello] = buildReport(sms, totals, '2026-12-01', '2026-12-01').nodes;
    expect(hello).toMatchObject({ reached: { available: true, value: 6 }, sent: 5, failed: { total: 1 }, delivered: 3 });
    expect(hello.undelivered).toEqual({ total: 2, byReason: { BLOCKED: 1, INVALID: 1 } });
    expect(renderReportText(buildReport(sms, totals, '2026-12-01', '2026-12-01'))).toContain('hello: failed failed 1; undelivered BLOCKED 1, INVALID 1');
  });

  it("shows an SMS node's carrier failures by status in the HTML report, beside suppressed and failed by reason", () => {
    const sms = journey({ nodes: [{ id: 'hello', kind: 'send', channel: 'sms', template: { body: 'b' }, next: 'done' }, { id: 'done', kind: 'exit' }] } as never);
    const node = { node: 'hello', channel: 'sms' };
    const totals = [
      t(COUNTER.sent, 5, node),
      t(COUNTER.suppressed, 2, { ...node, reason: 'quiet-hours' }),
      t(COUNTER.undelivered, 1, { ...node, reason: 'BLOCKED' }),
      t(COUNTER.undelivered, 2, { ...node, reason: '<INVALID>' }),
    ];
    const html = renderReportHtml(buildReport(sms, totals, '2026-12-01', '2026-12-01'));
    const row = /<tr data-node="hello">(.*?)<\/tr>/.exec(html)?.[1];
    const cells = [...(row ?? '').matchAll(/<t[hd][^>]*>(.*?)<\/t[hd]>/g)].map((m) => m[1]);
    // Carrier statuses are outside data: escaped like every other name on the page.
    expect(cells).toEqual(['hello', '2', 'quiet-hours 2', '0', '', '3', '&#60;INVALID&#62; 2, BLOCKED 1']);
    expect(html).toContain('<th>by carrier status</th>');
    // A report with nothing undelivered says so, and an older API's report (no `undelivered`) renders the same.
    const clean = buildReport(sms, [t(COUNTER.sent, 5, node)], '2026-12-01', '2026-12-01');
    expect(renderReportHtml(clean)).toContain('<p id="delivery">Nothing suppressed, failed or reported undelivered.</p>');
    const older = { ...clean, nodes: clean.nodes.map(({ undelivered: _u, ...n }) => n) } as unknown as typeof clean;
    expect(renderReportHtml(older)).toContain('<p id="delivery">');
  });

  it('compares the journey with its holdout: rates, uplift, the fixed-horizon test and the sample ratio', () => {
    const totals = [
      t(COUNTER.entered, 950),
      t(COUNTER.entered, 50, { variant: 'holdout' }),
      t(COUNTER.converted, 95),
      t(COUNTER.converted, 2, { variant: 'holdout' }),
      t(COUNTER.revenue, 970),
      t(COUNTER.revenue, 20, { variant: 'holdout' }),
    ];
    const report = buildReport(journey({ settings: { reentry: 'never', timeout: '91d', messageClass: 'marketing', holdout: { percent: 5 } } } as never), totals, '2026-12-01', '2026-12-01');
    expect(report.entered).toBe(1000);
    expect(report.goal).toMatchObject({ converted: 97, revenue: 990, conversionRate: { value: 0.097 }, averageOrderValue: { value: 990 / 97 } });
    const [holdout] = report.experiments;
    expect(holdout.arms).toEqual([
      expect.objectContaining({ id: 'holdout', entries: 50, conversions: 2, revenue: 20 }),
      expect.objectContaining({ id: 'journey', entries: 950, conversions: 95, revenue: 970 }),
    ]);
    // 950 : 50 is exactly 95 : 5.
    expect(holdout.sampleRatio).toMatchObject({ available: true, chiSquare: 0, mismatch: false });
    expect(holdout.comparisons[0].fixedHorizon).toMatchObject(twoProportionTest({ entries: 50, conversions: 2 }, { entries: 950, conversions: 95 }) as object);
    expect(holdout.comparisons[0].incrementalConversions).toEqual({ available: true, value: expect.closeTo((0.1 - 0.04) * 950, 9) });
  });

  it('reads a split node loosely, flags a sample ratio mismatch and corrects three comparisons against the holdout', () => {
    const split = { id: 'pick', kind: 'split', variants: [{ id: 'a', weight: 30, next: 'hello' }, { id: 'b', weight: 30, next: 'hello' }, { id: 'c', weight: 30, next: 'hello' }], holdout: { weight: 10 } };
    const totals = [
      ...['a', 'b', 'c'].map((v, i) => t(COUNTER.assigned, [300, 300, 420][i], { node: 'pick', variant: v })),
      t(COUNTER.assigned, 100, { node: 'pick', variant: 'holdout' }),
      t(COUNTER.converted, 30, { node: 'pick', variant: 'a' }),
      t(COUNTER.converted, 10, { node: 'pick', variant: 'holdout' }),
    ];
    const report = buildReport(journey({ start: 'pick', nodes: [split, ...journey().nodes] } as never), totals, '2026-12-01', '2026-12-01');
    const [experiment] = report.experiments;
    expect(experiment).toMatchObject({ kind: 'split', node: 'pick', control: 'holdout' });
    expect(experiment.sampleRatio).toMatchObject({ available: true, mismatch: true });
    expect(experiment.comparisons.map((c) => c.variant)).toEqual(['a', 'b', 'c']);
    expect(experiment.comparisons[0].fixedHorizon).toMatchObject({ available: true, adjustedPValue: expect.any(Number) });
    // b and c converted no one: an uplift relative to the holdout exists, never NaN.
    expect(JSON.stringify(report)).not.toMatch(/NaN|Infinity|null/);
  });

  it('says why a figure is missing: no goal, no entries, a node kind without outcomes', () => {
    const report = buildReport(journey({ goal: undefined }), [], '2026-12-01', '2026-12-02');
    expect(report.goal).toEqual({ available: false, reason: 'the journey declares no goal' });
    expect(report.nodes[1].reached).toEqual({ available: false, reason: expect.stringContaining('exit node') });
    expect(report.days).toEqual([
      { day: '2026-12-01', entered: 0, converted: 0 },
      { day: '2026-12-02', entered: 0, converted: 0 },
    ]);
    expect(report.exited.byReason).toEqual({ completed: 0, 'exit-criteria': 0, timeout: 0, erased: 0, failed: 0, preempted: 0 });
  });
});

describe('countRunEnd', () => {
  const statusChange = (name: string, status: string) => ({
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    detail: { executionArn: `arn:aws:states:eu-west-1:1:execution:sm:${name}`, name, status, startDate: Date.parse('2026-11-30T23:00:00Z'), stopDate: 0 },
  });
  const run = `j--${'a'.repeat(28)}`;

  it('counts a run end once however often EventBridge delivers it, by the entry day', async () => {
    const ports = memoryPorts(new VirtualClock('2026-12-01T00:00:00Z'));
    const deps = { counters: memoryJourneyCounters(ports), once: memoryOnceMarks(ports), clock: ports.clock };
    expect(await countRunEnd(deps, statusChange(run, 'TIMED_OUT'))).toEqual({ status: 'counted', journeyId: 'j', reason: 'timeout' });
    expect(await countRunEnd(deps, statusChange(run, 'TIMED_OUT'))).toEqual({ status: 'ignored', reason: 'already counted' });
    expect(await deps.counters.read('j', '2026-11-30', '2026-12-01')).toEqual([{ day: '2026-11-30', name: 'exited', dims: { reason: 'timeout' }, value: 1 }]);
  });

  it.each([
    ['a run of another state machine', statusChange('recheck-local-1', 'SUCCEEDED'), /not a journey run/],
    ['an aborted run (counted where it is stopped)', statusChange(run, 'ABORTED'), /not a run end/],
    ['another event', { 'detail-type': 'Other', detail: {} }, /not a run end/],
    ['an event without a detail', { 'detail-type': 'Step Functions Execution Status Change' }, /not a run end: detail: expected an object/],
    ['a start date that is no time', { ...statusChange(run, 'FAILED'), detail: { ...statusChange(run, 'FAILED').detail, startDate: 'soon' } }, /detail\.startDate: not a time/],
    ['a name over 80 characters', statusChange(`j--${'a'.repeat(80)}`, 'FAILED'), /detail\.name: expected 1 to 80 characters/],
    ['no execution ARN', { ...statusChange(run, 'FAILED'), detail: { ...statusChange(run, 'FAILED').detail, executionArn: undefined } }, /detail\.executionArn/],
  ])('ignores %s', async (_what, event, reason) => {
    const ports = memoryPorts(new VirtualClock('2026-12-01T00:00:00Z'));
    const result = await countRunEnd({ counters: memoryJourneyCounters(ports), once: memoryOnceMarks(ports), clock: ports.clock }, event);
    expect(result).toEqual({ status: 'ignored', reason: expect.stringMatching(reason) });
  });
});
