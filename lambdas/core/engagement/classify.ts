/**
 * Opens and clicks that a person made, or a machine: the rule of lambdas/core/engagement/README.md ("Who opened").
 * Pure: the user agent and IP SES reports with the event, and when the message was delivered.
 */

export type Agent = 'human' | 'machine';

export type AgentReason =
  | 'person'
  | 'no-user-agent'
  | 'apple-mail-privacy-protection'
  | 'google-image-proxy'
  | 'yahoo-image-proxy'
  | 'proxy-ip'
  | 'scanner-user-agent'
  | 'click-right-after-delivery';

export interface Classification {
  agent: Agent;
  reason: AgentReason;
}

export interface EngagementSignal {
  kind: 'open' | 'click';
  userAgent?: string;
  ip?: string;
  /** When the open or click happened (ISO). */
  at: string;
  /** When the message reached the recipient's server, or, not known yet, when SES accepted it (ISO). */
  deliveredAt?: string;
}

export interface ClassifyOptions {
  /** A click this soon after delivery is a link scanner's (people do not read and click within seconds). */
  scannerClickSeconds: number;
  /** Opens from these networks are proxy fetches (CIDR, IPv4 or IPv6): Apple's 17.0.0.0/8 by default. */
  proxyOpenRanges: readonly string[];
}

export const CLASSIFY_DEFAULTS: ClassifyOptions = { scannerClickSeconds: 10, proxyOpenRanges: ['17.0.0.0/8'] };

/** Link checkers and security gateways that follow every link of a message (by user agent). */
const SCANNER_AGENT =
  /bot\b|crawler|spider|scanner|python-requests|python-urllib|curl\/|wget\/|go-http-client|okhttp|java\/|headlesschrome|phantomjs|barracuda|proofpoint|mimecast|forcepoint|trendmicro|symantec|microsoft office|bingpreview|slackbot|linkexpanding/i;

/** Classifies one SES open or click event (first matching rule wins, in the order of the README table). */
export function classifyEngagement(signal: EngagementSignal, options: ClassifyOptions = CLASSIFY_DEFAULTS): Classification {
  const ua = (signal.userAgent ?? '').trim();
  const machine = (reason: AgentReason): Classification => ({ agent: 'machine', reason });
  if (ua === '') return machine('no-user-agent');
  // Apple's Mail Privacy Protection fetches every image through its relay with the bare token, nothing after it.
  if (ua === 'Mozilla/5.0') return machine('apple-mail-privacy-protection');
  if (/GoogleImageProxy/i.test(ua)) return machine('google-image-proxy');
  if (/YahooMailProxy/i.test(ua)) return machine('yahoo-image-proxy');
  if (SCANNER_AGENT.test(ua)) return machine('scanner-user-agent');
  if (signal.kind === 'open' && signal.ip !== undefined && options.proxyOpenRanges.some((range) => inRange(signal.ip!, range))) {
    return machine('proxy-ip');
  }
  if (signal.kind === 'click' && signal.deliveredAt !== undefined) {
    const seconds = (Date.parse(signal.at) - Date.parse(signal.deliveredAt)) / 1000;
    if (Number.isFinite(seconds) && seconds < options.scannerClickSeconds) return machine('click-right-after-delivery');
  }
  return { agent: 'human', reason: 'person' };
}

/** Is `ip` inside the CIDR `range`? Malformed input is outside every range. */
export function inRange(ip: string, range: string): boolean {
  const [base, bitsText] = range.split('/');
  const a = parseIp(ip);
  const b = parseIp(base);
  if (!a || !b || a.bits !== b.bits) return false;
  const bits = bitsText === undefined ? b.bits : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > b.bits) return false;
  const shift = BigInt(b.bits - bits);
  return a.value >> shift === b.value >> shift;
}

function parseIp(text: string): { bits: 32 | 128; value: bigint } | undefined {
  if (text.length > 45) return undefined;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const parts = v4.slice(1).map(Number);
    if (parts.some((p) => p > 255)) return undefined;
    return { bits: 32, value: parts.reduce((n, p) => (n << 8n) | BigInt(p), 0n) };
  }
  if (!/^[0-9a-fA-F:]+$/.test(text) || text.split('::').length > 2) return undefined;
  const [head, tail] = text.split('::');
  const groups = (s: string | undefined) => (s === undefined || s === '' ? [] : s.split(':'));
  const left = groups(head);
  const right = groups(tail);
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return undefined;
  const all = [...left, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...right];
  if (all.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return { bits: 128, value: all.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n) };
}
