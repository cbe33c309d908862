/**
 * What a simulation reports, per profile and run: the path through the journey with virtual times, the messages that
 * would be sent, the suppressions (the send ledger's `suppressed` entries and their reasons), the decisions (the
 * decision log of the journey's decide nodes) and how the run ended. `renderText` prints it for people, line by line
 * and the same for the same report; `renderJson` for programs.
 */
import type { ChosenOffer, OfferExplanation } from '../core/decisions/ports';
import type { OutboxMessage } from '../local/outbox';

export type RunStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** One state entered: `node` is the journey node it belongs to (`reminder-email.route` → `reminder-email`). */
export interface PathStep {
  node: string;
  state: string;
  /** Virtual time, ISO-8601 UTC. */
  at: string;
}

/** A message the delivery step would have sent (the outbox's record of it). */
/** A message as the outbox holds it (subject: email subject or push title; body: email text, SMS text or push body). */
export interface ReportMessage extends Pick<OutboxMessage, 'channel' | 'recipient' | 'subject' | 'body' | 'html' | 'url'> {
  at: string;
  node: string;
}

/** A send step that sent nothing, and the ledger's reason (`consent:email`, `no-address`, `suppressed:bounce`…). */
export interface ReportSuppression {
  at: string;
  node: string;
  channel: string;
  reason: string;
}

/** One placement of a decide node's decision, as the decision log holds it. */
export interface ReportDecision {
  at: string;
  node: string;
  placement: string;
  offers: ChosenOffer[];
  /** Nothing else qualified: the offers are the placement's fallback. */
  fallback: boolean;
  /** Every offer considered and why it was or was not chosen. */
  explanation: OfferExplanation[];
}

export interface RunEnd {
  status: Exclude<RunStatus, 'RUNNING'>;
  at: string;
  /** The error (and cause) of a FAILED or TIMED_OUT run. */
  error?: string;
}

export interface RunReport {
  journeyId: string;
  executionId: string;
  status: RunStatus;
  startedAt: string;
  path: PathStep[];
  messages: ReportMessage[];
  suppressions: ReportSuppression[];
  decisions: ReportDecision[];
  /** null: still running when the simulation stopped. */
  ended: RunEnd | null;
}

export interface ProfileReport {
  profileId: string;
  identities: Record<string, string>;
  /** Oldest first. */
  runs: RunReport[];
}

export interface SimulationReport {
  /** The journey simulated (runs of other journeys the script started are reported too). */
  journeyId: string;
  /** Virtual times: the start, and when the simulation stopped. */
  start: string;
  end: string;
  profiles: ProfileReport[];
}

/** The node a state belongs to: compiled states are `<node id>` or `<node id>.<part>` (statemachines/README.md). */
export const nodeOfState = (state: string) => state.split('.')[0];

/** The nodes a run went through, one entry per visit (its states collapsed): when each was entered. */
export function nodeVisits(path: readonly PathStep[]): { node: string; at: string }[] {
  const visits: { node: string; at: string }[] = [];
  for (const step of path) if (visits.at(-1)?.node !== step.node) visits.push({ node: step.node, at: step.at });
  return visits;
}

const time = (iso: string) => iso.replace(/\.000Z$/, 'Z');

/** `+1d2h30m` from the start; `+0s` at the start. */
export function formatOffset(fromIso: string, toIso: string): string {
  let ms = Date.parse(toIso) - Date.parse(fromIso);
  const sign = ms < 0 ? '-' : '+';
  ms = Math.abs(ms);
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]] as const) {
    const count = Math.floor(ms / size);
    ms -= count * size;
    if (count > 0) parts.push(`${count}${unit}`);
  }
  return `${sign}${parts.join('') || '0s'}`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const identityList = (identities: Record<string, string>) =>
  Object.entries(identities).map(([namespace, value]) => `${namespace}:${value}`).join(', ');

function explain(line: OfferExplanation): string {
  const parts = [line.eligible ? 'eligible' : `not eligible${line.reason ? ` (${line.reason})` : ''}`];
  if (line.eligible && line.score !== null) parts.push(`score ${line.score}`);
  if (line.capped) parts.push(`capped (${line.capped})`);
  if (line.eligible && line.reason) parts.push(line.reason);
  if (line.chosen) parts.push('chosen');
  return `${line.offerId}: ${parts.join(', ')}`;
}

type Item =
  | { at: string; node: string; kind: 'message'; message: ReportMessage }
  | { at: string; node: string; kind: 'suppression'; suppression: ReportSuppression }
  | { at: string; node: string; kind: 'decision'; decision: ReportDecision };

function itemLines(item: Item): string[] {
  switch (item.kind) {
    case 'message': {
      const m = item.message;
      const subject = m.subject === undefined ? '' : `: ${m.subject}`;
      const head = `${m.channel} to ${m.recipient}${subject}${m.html === undefined ? '' : ' (+ html)'}`;
      const body = m.body.split('\n').map((text) => `  | ${text}`.trimEnd());
      return [head, ...body, ...(m.url === undefined ? [] : [`  link ${m.url}`])];
    }
    case 'suppression':
      return [`suppressed ${item.suppression.channel}: ${item.suppression.reason}`];
    case 'decision': {
      const d = item.decision;
      const chosen = d.offers.length === 0 ? 'no offer' : d.offers.map((o) => o.offerId).join(', ');
      const head = `decided ${d.placement}: ${chosen}${d.fallback ? ' (fallback)' : ''}`;
      return [head, ...d.explanation.map((e) => `  ${explain(e)}`)];
    }
  }
}

function runLines(run: RunReport, start: string): string[] {
  const lines = [`  run ${run.journeyId} ${run.executionId}: ${run.status}`];
  const visits = nodeVisits(run.path);
  const items: Item[] = [
    ...run.messages.map((message) => ({ at: message.at, node: message.node, kind: 'message' as const, message })),
    ...run.suppressions.map((s) => ({ at: s.at, node: s.node, kind: 'suppression' as const, suppression: s })),
    ...run.decisions.map((decision) => ({ at: decision.at, node: decision.node, kind: 'decision' as const, decision })),
  ];
  // Each message, suppression and decision goes under the latest visit of its node not after it.
  const under = visits.map(() => [] as Item[]);
  const elsewhere: Item[] = [];
  for (const item of items) {
    let found = -1;
    visits.forEach((visit, i) => {
      if (visit.node === item.node && (found < 0 || visit.at <= item.at)) found = i;
    });
    (found < 0 ? elsewhere : under[found]).push(item);
  }
  const stamp = (at: string) => `${formatOffset(start, at).padEnd(10)} ${time(at).padEnd(20)}`;
  // Under the node's name, indented by two.
  const pad = ' '.repeat(4 + 10 + 1 + 20 + 2 + 2);
  visits.forEach((visit, i) => {
    lines.push(`    ${stamp(visit.at)}  ${visit.node}`);
    for (const item of under[i].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))) {
      lines.push(...itemLines(item).map((text) => `${pad}${text}`));
    }
  });
  for (const item of elsewhere) {
    const [first, ...rest] = itemLines(item);
    lines.push(`    ${stamp(item.at)}  (${item.node}) ${first}`, ...rest.map((text) => `${pad}${text}`));
  }
  if (run.ended) {
    const error = run.ended.error === undefined ? '' : `: ${run.ended.error}`;
    lines.push(`    ${stamp(run.ended.at)}  ended ${run.ended.status}${error}`);
  } else {
    lines.push('    still running when the simulation stopped');
  }
  return lines;
}

/** The report as text: a summary line, then per profile its runs, node by node with what happened there. */
export function renderText(report: SimulationReport): string {
  const runs = report.profiles.flatMap((p) => p.runs);
  const count = (pick: (r: RunReport) => unknown[]) => runs.reduce((n, r) => n + pick(r).length, 0);
  const lines = [
    `journey ${report.journeyId}, simulated from ${time(report.start)} to ${time(report.end)}`,
    [
      plural(report.profiles.length, 'profile'),
      plural(runs.length, 'run'),
      plural(count((r) => r.messages), 'message'),
      plural(count((r) => r.suppressions), 'suppression'),
      plural(count((r) => r.decisions), 'decision'),
    ].join(', '),
  ];
  for (const profile of report.profiles) {
    lines.push('', `profile ${profile.profileId} (${identityList(profile.identities)})`);
    if (profile.runs.length === 0) lines.push('  no runs');
    for (const run of profile.runs) lines.push(...runLines(run, report.start));
  }
  return `${lines.join('\n')}\n`;
}

/** The report as pretty JSON (the same fields as the types above). */
export function renderJson(report: SimulationReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
