import type { ExperimentReport, JourneyReport, NodeReport, ReportDiagram } from './report';
import type { Figure } from './stats';

/** A journey report as text (the `waymark report` table) and as one self-contained HTML page (no network needed). */

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const signedPct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)} pp`;
/** A figure's value, or why there is none. */
const fig = (f: Figure<{ value: number }>, format: (x: number) => string) => (f.available ? format(f.value) : `n/a (${f.reason})`);
const num = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2));

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd()).join('\n');
}

/** Reasons largest first (then by name): the order counters come back in differs between stores. */
const reasons = (r: Record<string, number>) =>
  Object.entries(r)
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

function experimentLines(e: ExperimentReport): string[] {
  const title = e.kind === 'journey-holdout' ? 'Journey holdout' : `Split ${e.node}`;
  const lines = [`${title} (control: ${e.control})`];
  lines.push(
    table([
      ['arm', 'weight', 'entries', 'conversions', 'rate', 'revenue'],
      ...e.arms.map((a) => [a.id, num(a.weight), String(a.entries), String(a.conversions), fig(a.conversionRate, pct), num(a.revenue)]),
    ]),
  );
  for (const c of e.comparisons) {
    const seq = c.sequential.available
      ? `${signedPct(c.sequential.difference)} [${signedPct(c.sequential.interval.lower)}, ${signedPct(c.sequential.interval.upper)}] anytime-valid`
      : `n/a (${c.sequential.reason})`;
    const fixed = c.fixedHorizon.available ? `fixed-horizon p ${c.fixedHorizon.pValue.toPrecision(3)} (adjusted ${c.fixedHorizon.adjustedPValue.toPrecision(3)})` : `fixed-horizon n/a (${c.fixedHorizon.reason})`;
    lines.push(`  ${c.variant} vs ${c.against}: ${seq}; ${fixed}`);
  }
  const srm = e.sampleRatio;
  lines.push(`  sample ratio: ${srm.available ? `chi-square ${srm.chiSquare.toFixed(2)}, p ${srm.pValue.toPrecision(3)}${srm.mismatch ? ' MISMATCH (p < 0.001)' : ' ok'}` : `n/a (${srm.reason})`}`);
  return lines;
}

export function renderReportText(report: JourneyReport): string {
  const lines = [`Journey ${report.journeyId} (${report.name}), entries ${report.from} to ${report.to} (UTC)`, ''];
  lines.push(`Entered ${report.entered}; exited ${report.exited.total} (${reasons(report.exited.byReason)})`, '');
  lines.push(
    table([
      ['node', 'kind', 'reached', 'sent', 'suppressed', 'failed', 'delivered', 'opened', 'clicked'],
      ...report.nodes.map((n) => [
        n.id,
        n.kind,
        fig(n.reached, String),
        String(n.sent),
        String(n.suppressed.total),
        String(n.failed.total),
        String(n.delivered),
        String(n.opened.total),
        String(n.clicked.total),
      ]),
    ]),
  );
  // `undelivered` (SMS the carrier did not deliver) is read loosely: an older API's report has none.
  const undelivered = (n: JourneyReport['nodes'][number]) => n.undelivered?.total ?? 0;
  for (const n of report.nodes.filter((x) => x.suppressed.total > 0 || x.failed.total > 0 || undelivered(x) > 0)) {
    const parts = [
      n.suppressed.total ? `suppressed ${reasons(n.suppressed.byReason)}` : '',
      n.failed.total ? `failed ${reasons(n.failed.byReason)}` : '',
      undelivered(n) ? `undelivered ${reasons(n.undelivered.byReason)}` : '',
    ];
    lines.push(`  ${n.id}: ${parts.filter(Boolean).join('; ')}`);
  }
  lines.push('');
  const g = report.goal;
  lines.push(
    g.available
      ? `Goal ${g.event}: converted ${g.converted}, rate ${fig(g.conversionRate, pct)}, revenue ${num(g.revenue)}, AOV ${fig(g.averageOrderValue, num)}, per recipient ${fig(g.revenuePerRecipient, num)}`
      : `Goal: n/a (${g.reason})`,
  );
  for (const e of report.experiments) lines.push('', ...experimentLines(e));
  return `${lines.join('\n')}\n`;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Layers nodes by their longest distance from the start (journeys are acyclic), then places each layer in a row. */
function layout(diagram: ReportDiagram) {
  const depth = new Map<string, number>([[diagram.start, 0]]);
  const byId = new Map(diagram.nodes.map((n) => [n.id, n]));
  for (let changed = true, rounds = 0; changed && rounds <= diagram.nodes.length; rounds++) {
    changed = false;
    for (const n of diagram.nodes) {
      const d = depth.get(n.id);
      if (d === undefined) continue;
      for (const e of n.edges) {
        if (byId.has(e.target) && (depth.get(e.target) ?? -1) < d + 1) {
          depth.set(e.target, d + 1);
          changed = true;
        }
      }
    }
  }
  const rows: string[][] = [];
  for (const n of diagram.nodes) {
    const d = depth.get(n.id) ?? rows.length;
    (rows[d] ??= []).push(n.id);
  }
  const W = 200;
  const H = 64;
  const GX = 40;
  const GY = 56;
  const width = Math.max(...rows.map((r) => r?.length ?? 0), 1) * (W + GX) + GX;
  const at = new Map<string, { x: number; y: number }>();
  rows.forEach((row, r) => (row ?? []).forEach((id, i) => at.set(id, { x: (width - row.length * (W + GX) + GX) / 2 + i * (W + GX), y: 70 + r * (H + GY) })));
  return { at, W, H, width, height: 70 + rows.length * (H + GY) };
}

function diagramSvg(report: JourneyReport): string {
  const { at, W, H, width, height } = layout(report.diagram);
  const nodes = new Map<string, NodeReport>(report.nodes.map((n) => [n.id, n]));
  const parts: string[] = [];
  const start = at.get(report.diagram.start);
  parts.push(`<rect x="${width / 2 - 110}" y="8" width="220" height="34" rx="17" class="entry"/><text x="${width / 2}" y="30" text-anchor="middle">${esc(report.diagram.entry)} · ${report.entered} entered</text>`);
  if (start) parts.push(`<line x1="${width / 2}" y1="42" x2="${start.x + W / 2}" y2="${start.y}" marker-end="url(#arrow)"/>`);
  for (const n of report.diagram.nodes) {
    const from = at.get(n.id)!;
    for (const e of n.edges) {
      const to = at.get(e.target);
      if (!to) continue;
      const [x1, y1, x2, y2] = [from.x + W / 2, from.y + H, to.x + W / 2, to.y];
      parts.push(`<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" marker-end="url(#arrow)"/>`);
      if (e.label) parts.push(`<text class="edge" x="${(x1 + x2) / 2 + 4}" y="${(y1 + y2) / 2}">${esc(e.label.slice(0, 40))}</text>`);
    }
  }
  for (const n of report.diagram.nodes) {
    const { x, y } = at.get(n.id)!;
    const r = nodes.get(n.id);
    const counts = r
      ? r.kind === 'send'
        ? `sent ${r.sent} · supp ${r.suppressed.total} · failed ${r.failed.total}`
        : r.reached.available
          ? `reached ${r.reached.value}`
          : ''
      : '';
    parts.push(
      `<g class="node ${esc(n.kind)}" data-node="${esc(n.id)}"><rect x="${x}" y="${y}" width="${W}" height="${H}" rx="6"/>` +
        `<text x="${x + 8}" y="${y + 18}" class="id">${esc(n.id)}</text><text x="${x + 8}" y="${y + 36}">${esc(n.label.slice(0, 30))}</text>` +
        `<text x="${x + 8}" y="${y + 54}" class="counts">${esc(counts)}</text></g>`,
    );
  }
  return (
    `<svg id="diagram" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z"/></marker></defs>` +
    `${parts.join('')}</svg>`
  );
}

function funnel(report: JourneyReport): string {
  const steps: [string, number][] = [['entered', report.entered]];
  for (const n of report.nodes.filter((x) => x.kind === 'send')) {
    steps.push([`${n.id}: reached`, n.reached.available ? n.reached.value : 0], [`${n.id}: sent`, n.sent]);
  }
  if (report.goal.available) steps.push(['converted', report.goal.converted]);
  const max = Math.max(1, ...steps.map(([, v]) => v));
  const rows = steps.map(
    ([label, v]) =>
      `<tr><th>${esc(label)}</th><td class="bar"><div style="width:${((v / max) * 100).toFixed(1)}%"></div></td><td class="num">${v}</td></tr>`,
  );
  return `<table id="funnel">${rows.join('')}</table>`;
}

/**
 * What did not reach people, per send node: suppressed and failed by reason, and SMS the carrier reported undelivered
 * by its status (read loosely, as in the text: an older API's report has no `undelivered`).
 */
function delivery(report: JourneyReport): string {
  const undelivered = (n: NodeReport) => n.undelivered?.total ?? 0;
  const cell = (total: number, byReason: Record<string, number> | undefined) =>
    `<td class="num">${total}</td><td>${total > 0 ? esc(reasons(byReason ?? {})) : ''}</td>`;
  const rows = report.nodes
    .filter((n) => n.suppressed.total > 0 || n.failed.total > 0 || undelivered(n) > 0)
    .map(
      (n) =>
        `<tr data-node="${esc(n.id)}"><th>${esc(n.id)}</th>${cell(n.suppressed.total, n.suppressed.byReason)}` +
        `${cell(n.failed.total, n.failed.byReason)}${cell(undelivered(n), n.undelivered?.byReason)}</tr>`,
    );
  if (rows.length === 0) return '<p id="delivery">Nothing suppressed, failed or reported undelivered.</p>';
  const columns = ['node', 'suppressed', 'by reason', 'failed', 'by reason', 'undelivered', 'by carrier status'];
  const head = `<tr>${columns.map((c) => `<th>${c}</th>`).join('')}</tr>`;
  return `<table id="delivery">${head}${rows.join('')}</table>`;
}

function variants(report: JourneyReport): string {
  if (report.experiments.length === 0) return '<p id="variants">No split and no holdout in this journey.</p>';
  const blocks = report.experiments.map((e) => {
    const title = e.kind === 'journey-holdout' ? 'Journey holdout' : `Split ${e.node}`;
    const comparison = new Map(e.comparisons.map((c) => [c.variant, c]));
    const rows = e.arms.map((a) => {
      const c = comparison.get(a.id);
      const uplift = !c ? 'control' : c.sequential.available ? `${signedPct(c.sequential.difference)} [${signedPct(c.sequential.interval.lower)}, ${signedPct(c.sequential.interval.upper)}]` : `n/a (${c.sequential.reason})`;
      const p = !c ? '' : c.fixedHorizon.available ? c.fixedHorizon.adjustedPValue.toPrecision(3) : 'n/a';
      return `<tr><th>${esc(a.id)}</th><td class="num">${num(a.weight)}</td><td class="num">${a.entries}</td><td class="num">${a.conversions}</td><td class="num">${esc(fig(a.conversionRate, pct))}</td><td class="num">${num(a.revenue)}</td><td>${esc(uplift)}</td><td class="num">${esc(p)}</td></tr>`;
    });
    const srm = e.sampleRatio;
    const note = srm.available ? `Sample ratio: p = ${srm.pValue.toPrecision(3)}${srm.mismatch ? ' — mismatch (p &lt; 0.001): the split is not as declared' : ''}` : `Sample ratio: n/a (${esc(srm.reason)})`;
    return `<h3>${esc(title)}</h3><table class="variants"><tr><th>arm</th><th>weight</th><th>entries</th><th>conversions</th><th>rate</th><th>revenue</th><th>uplift vs ${esc(e.control)} (anytime-valid 95%)</th><th>fixed-horizon p (adjusted)</th></tr>${rows.join('')}</table><p>${note}</p>`;
  });
  return `<div id="variants">${blocks.join('')}</div>`;
}

function dailyChart(report: JourneyReport): string {
  const days = report.days;
  const W = Math.max(320, days.length * 24 + 60);
  const H = 220;
  const max = Math.max(1, ...days.map((d) => Math.max(d.entered, d.converted)));
  const x = (i: number) => 40 + (days.length <= 1 ? (W - 60) / 2 : (i * (W - 60)) / (days.length - 1));
  const y = (v: number) => H - 30 - (v / max) * (H - 60);
  const line = (key: 'entered' | 'converted') => days.map((d, i) => `${x(i).toFixed(1)},${y(d[key]).toFixed(1)}`).join(' ');
  const dots = (key: 'entered' | 'converted') =>
    days.map((d, i) => `<circle class="${key}" cx="${x(i).toFixed(1)}" cy="${y(d[key]).toFixed(1)}" r="3"><title>${d.day}: ${d[key]} ${key}</title></circle>`).join('');
  const labels = days
    .map((d, i) => (i % Math.ceil(days.length / 8) === 0 ? `<text x="${x(i).toFixed(1)}" y="${H - 10}" text-anchor="middle" class="axis">${d.day.slice(5)}</text>` : ''))
    .join('');
  return (
    `<svg id="daily" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">` +
    `<line x1="40" y1="${H - 30}" x2="${W - 20}" y2="${H - 30}" class="axisline"/><text x="4" y="${y(max) + 4}" class="axis">${max}</text><text x="4" y="${H - 26}" class="axis">0</text>` +
    `<polyline class="entered" points="${line('entered')}"/><polyline class="converted" points="${line('converted')}"/>${dots('entered')}${dots('converted')}${labels}` +
    `<text x="${W - 200}" y="16" class="entered-label">— entered</text><text x="${W - 110}" y="16" class="converted-label">— converted</text></svg>`
  );
}

const STYLE = `body{font:14px system-ui,sans-serif;margin:24px;color:#222}h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse}th,td{padding:3px 8px;text-align:left;border-bottom:1px solid #eee}td.num{text-align:right}
td.bar{width:320px}td.bar div{background:#4a7bd0;height:14px}svg text{font:12px system-ui,sans-serif}
#diagram rect{fill:#f5f7fb;stroke:#7a8bb0}#diagram .entry{fill:#e8f3e8;stroke:#6a9a6a}#diagram line{stroke:#888}
#diagram .id{font-weight:bold}#diagram .counts{fill:#1d5fbf}#diagram .edge{fill:#777;font-size:11px}
#daily polyline{fill:none;stroke-width:2}#daily .entered{stroke:#4a7bd0;fill:#4a7bd0}#daily .converted{stroke:#d0784a;fill:#d0784a}
#daily polyline.entered,#daily polyline.converted{fill:none}.axis{fill:#777}.axisline{stroke:#bbb}
.entered-label{fill:#4a7bd0}.converted-label{fill:#d0784a}`;

/** One HTML file with everything inline (styles, SVG): it opens without a network. */
export function renderReportHtml(report: JourneyReport): string {
  const g = report.goal;
  const goal = g.available
    ? `<p id="goal">Goal <b>${esc(g.event)}</b>: <span class="converted">${g.converted}</span> converted, rate ${esc(fig(g.conversionRate, pct))}, revenue ${num(g.revenue)}, average order ${esc(fig(g.averageOrderValue, num))}, per recipient ${esc(fig(g.revenuePerRecipient, num))}</p>`
    : `<p id="goal">Goal: n/a (${esc(g.reason)})</p>`;
  const exits = Object.entries(report.exited.byReason).map(([k, v]) => `${esc(k)} ${v}`).join(', ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(report.journeyId)} report</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<style>${STYLE}</style></head><body>
<h1>${esc(report.name)} <small>(${esc(report.journeyId)})</small></h1>
<p>Entries from ${esc(report.from)} to ${esc(report.to)} (UTC). <b id="entered">${report.entered}</b> entered; ${report.exited.total} exited (${exits}).</p>
${goal}
<h2>Journey</h2>${diagramSvg(report)}
<h2>Funnel</h2>${funnel(report)}
<h2>Not sent or not delivered</h2>${delivery(report)}
<h2>Variants</h2>${variants(report)}
<h2>Entries and conversions per day</h2>${dailyChart(report)}
<script type="application/json" id="report-data">${JSON.stringify(report).replace(/</g, '\\u003c')}</script>
</body></html>
`;
}
