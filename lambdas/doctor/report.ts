import type { Channel, Journey } from '../core/journey/schema';
import type { DoctorReport } from './checks';

const LABEL = { pass: 'ok  ', warn: 'WARN', fail: 'FAIL', skip: 'skip' } as const;

/** One line per check, the fix indented under a problem, and a count at the end. */
export function renderText(report: DoctorReport): string {
  const where = report.region ? `, region ${report.region}` : '';
  const lines = [`waymark doctor: stage "${report.stage}"${where} (read-only checks)`];
  for (const check of report.checks) {
    lines.push(`${LABEL[check.status]}  ${check.area.padEnd(6)} ${check.summary}`);
    const problem = check.status === 'fail' || check.status === 'warn';
    if (check.fix && problem) lines.push(`              fix: ${check.fix}`);
  }
  const count = (status: string) => report.checks.filter((c) => c.status === status).length;
  const verdict = report.ok ? '' : ': fix the failures before deploying';
  lines.push(`${count('pass')} passed, ${count('warn')} warning(s), ${count('fail')} failed${verdict}`);
  return `${lines.join('\n')}\n`;
}

export function renderJson(report: DoctorReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** The channels the journeys send on (each send node's `channel`). */
export function channelsUsed(journeys: readonly Journey[]): Set<Channel> {
  const channels = new Set<Channel>();
  for (const journey of journeys) {
    for (const node of journey.nodes) if (node.kind === 'send') channels.add(node.channel);
  }
  return channels;
}
