import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { run } from '../../bin/waymark';
import { buildCatalog } from '../../lambdas/core/journey/catalog';
import { COUNTER } from '../../lambdas/core/measure/counters';
import { startLocalStack, type LocalStack } from '../../lambdas/local/stack';
import { VirtualClock } from '../../lambdas/local/virtual-clock';
import { Browser, findChromium } from './chromium';

/**
 * `npm run test:browser`: the HTML report of a journey run in the local stack, written by `waymark report --html`,
 * opened in headless Chromium: the diagram, the numbers and the chart are laid out on the page.
 */
const journeys = buildCatalog([
  {
    path: 'browser-demo.json',
    text: JSON.stringify({
      schemaVersion: 1,
      id: 'browser-demo',
      name: 'Browser demo',
      entry: { kind: 'event', event: 'demo.entered' },
      settings: { reentry: 'always', messageClass: 'marketing', holdout: { percent: 10 } },
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
]).journeys;

const chromium = findChromium();
const describeWithBrowser = chromium ? describe : describe.skip;
if (!chromium) console.warn('test:browser: no Chromium found (apt-get install -y chromium, or CHROMIUM_PATH)');

describeWithBrowser('the HTML report in headless Chromium', () => {
  let stack: LocalStack;
  let browser: Browser;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'waymark-report-'));
    const clock = new VirtualClock('2026-12-01T09:00:00.000Z');
    stack = await startLocalStack({ port: 0, clock, journeys, segments: [] });
    const post = async (type: string, detail: Record<string, unknown>) => {
      const reply = await stack.request({ method: 'POST', path: '/events', body: JSON.stringify({ type, ...detail }), headers: { 'content-type': 'application/json' } });
      expect(reply.statusCode).toBe(202);
      await stack.settle();
    };
    for (let i = 0; i < 12; i++) await post('demo.entered', { id: `e-${i}`, identities: { email: `p${i}@example.com`, phone: `+49151000000${String(i).padStart(2, '0')}` } });
    await post('demo.replied', { id: 'r-0', identities: { email: 'p0@example.com' } });
    await clock.advance('1d');
    await post('demo.entered', { id: 'e-12', identities: { crmId: 'no-address' } });
    // Conversions and the holdout's entries come from the goals and holdout features; here written through the same port.
    await stack.counters.add([
      { journeyId: 'browser-demo', day: '2026-12-01', name: COUNTER.entered, dims: { variant: 'holdout' }, by: 3 },
      { journeyId: 'browser-demo', day: '2026-12-01', name: COUNTER.converted, by: 4 },
      { journeyId: 'browser-demo', day: '2026-12-02', name: COUNTER.converted, by: 2 },
      { journeyId: 'browser-demo', day: '2026-12-01', name: COUNTER.revenue, by: 240 },
      // Carrier status events of the nudge's SMS, as the engagement path counts them.
      { journeyId: 'browser-demo', day: '2026-12-02', name: COUNTER.undelivered, dims: { node: 'nudge', channel: 'sms', reason: 'UNREACHABLE' }, by: 2 },
      { journeyId: 'browser-demo', day: '2026-12-02', name: COUNTER.undelivered, dims: { node: 'nudge', channel: 'sms', reason: 'BLOCKED' }, by: 1 },
    ]);
    let stderr = '';
    const code = await run(['report', 'browser-demo', '--api', stack.url, '--from', '2026-12-01', '--to', '2026-12-03', '--html', join(dir, 'report.html')], {
      stdout: () => undefined,
      stderr: (t) => void (stderr += t),
      readFile: async (p) => readFileSync(p, 'utf8'),
      writeFile: async (p, t) => writeFileSync(p, t),
    });
    expect([code, stderr]).toEqual([0, `waymark: wrote ${join(dir, 'report.html')}\n`]);
    browser = await Browser.launch(chromium!);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lays out the diagram, a box per node with its counts, and loads nothing from the network', async () => {
    const page = await browser.open(pathToFileURL(join(dir, 'report.html')).toString());
    const boxes = await page.evaluate<{ id: string; width: number; height: number; text: string }[]>(
      `[...document.querySelectorAll('#diagram g.node')].map((g) => { const r = g.getBoundingClientRect(); return { id: g.dataset.node, width: r.width, height: r.height, text: g.textContent }; })`,
    );
    expect(boxes.map((b) => b.id)).toEqual(['hello', 'wait-reply', 'nudge', 'done']);
    for (const box of boxes) expect(box.width * box.height).toBeGreaterThan(1000);
    expect(boxes[0].text).toContain('sent 12 · supp 1 · failed 0');
    expect(boxes[2].text).toContain('sent 11');
    // Boxes do not overlap (each layer a row).
    const rects = await page.evaluate<{ x: number; y: number; w: number; h: number }[]>(
      `[...document.querySelectorAll('#diagram g.node rect')].map((r) => { const b = r.getBoundingClientRect(); return { x: b.x, y: b.y, w: b.width, h: b.height }; })`,
    );
    for (let i = 0; i < rects.length; i++) {
      for (let j = i + 1; j < rects.length; j++) {
        const [a, b] = [rects[i], rects[j]];
        expect(a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y).toBe(true);
      }
    }
    expect(await page.evaluate<number>(`document.querySelectorAll('#diagram line').length`)).toBeGreaterThanOrEqual(4);
    expect(page.requests.filter((u) => !u.startsWith('file:'))).toEqual([]);
  });

  it('shows the numbers: entries, the funnel and the variant table', async () => {
    const page = await browser.open(pathToFileURL(join(dir, 'report.html')).toString());
    expect(await page.evaluate<string>(`document.getElementById('entered').textContent`)).toBe('16');
    const funnel = await page.evaluate<[string, string, number][]>(
      `[...document.querySelectorAll('#funnel tr')].map((tr) => [tr.querySelector('th').textContent, tr.querySelector('td.num').textContent, tr.querySelector('td.bar div').getBoundingClientRect().width])`,
    );
    expect(funnel.map(([label, value]) => [label, value])).toEqual([
      ['entered', '16'],
      ['hello: reached', '13'],
      ['hello: sent', '12'],
      ['nudge: reached', '11'],
      ['nudge: sent', '11'],
      ['converted', '6'],
    ]);
    // Bars are drawn to scale: entered is the widest.
    expect(funnel[0][2]).toBeGreaterThan(funnel[5][2] * 2);
    const arms = await page.evaluate<string[][]>(
      `[...document.querySelectorAll('#variants table.variants tr')].slice(1).map((tr) => [...tr.children].map((c) => c.textContent))`,
    );
    expect(arms.map((a) => a.slice(0, 4))).toEqual([
      ['holdout', '10', '3', '0'],
      ['journey', '90', '13', '6'],
    ]);
    expect(arms[1][6]).toMatch(/^n\/a \(too few entries/);
  });

  it('draws entries and conversions per day as a chart', async () => {
    const page = await browser.open(pathToFileURL(join(dir, 'report.html')).toString());
    const chart = await page.evaluate<{ width: number; entered: number; converted: number; dots: string[] }>(`(() => {
      const svg = document.getElementById('daily');
      return {
        width: svg.getBoundingClientRect().width,
        entered: svg.querySelector('polyline.entered').getTotalLength(),
        converted: svg.querySelector('polyline.converted').getTotalLength(),
        dots: [...svg.querySelectorAll('circle title')].map((t) => t.textContent),
      };
    })()`);
    expect(chart.width).toBeGreaterThan(300);
    expect(chart.entered).toBeGreaterThan(100);
    expect(chart.converted).toBeGreaterThan(100);
    expect(chart.dots).toEqual([
      '2026-12-01: 15 entered',
      '2026-12-02: 1 entered',
      '2026-12-03: 0 entered',
      '2026-12-01: 4 converted',
      '2026-12-02: 2 converted',
      '2026-12-03: 0 converted',
    ]);
  });

  it('lists per node what did not reach people: suppressed by reason, and SMS undelivered by carrier status', async () => {
    const page = await browser.open(pathToFileURL(join(dir, 'report.html')).toString());
    const rows = await page.evaluate<string[][]>(
      `[...document.querySelectorAll('#delivery tr[data-node]')].map((tr) => [...tr.children].map((c) => c.textContent))`,
    );
    expect(rows).toEqual([
      ['hello', '1', 'no-address 1', '0', '', '0', ''],
      ['nudge', '0', '', '0', '', '3', 'UNREACHABLE 2, BLOCKED 1'],
    ]);
  });
});
