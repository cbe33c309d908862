/**
 * `waymark why <ns:value | profile-id> <journey-id> [--api <url>] [--json]`: what happened to one person in one
 * journey, from `GET /profiles/{id}/journeys/{journeyId}`. Against the local stack by default; a deployed API
 * (IAM auth) is called signed with SigV4 from the standard AWS credential chain.
 */
import { OptionError, parseOptions, type ParsedOptions } from './options';
import { apiBase, httpGet, isLocal, regionOf, signedHeaders, type HttpGet, type Signer } from './report-client';

/** How `why` calls the API: report-client.ts's GET and SigV4 signer, which `waymark report` uses too. */
export interface WhyDeps {
  http: HttpGet;
  sign: Signer;
}

export interface WhyArgs {
  profile: string;
  journey: string;
  api: string;
  json: boolean;
}

export class WhyUsageError extends Error {
  override readonly name = 'WhyUsageError';
}

export function parseWhyArgs(args: readonly string[], env: Record<string, string | undefined> = process.env): WhyArgs {
  let parsed: ParsedOptions;
  try {
    parsed = parseOptions(args, { values: ['api'], flags: ['json'], takes: { api: 'a URL' } });
  } catch (error) {
    throw error instanceof OptionError ? new WhyUsageError(error.message) : error;
  }
  const { positional, values, flags } = parsed;
  const json = flags.json === true;
  if (positional.length !== 2) throw new WhyUsageError('why takes <ns:value | profile-id> <journey-id>');
  const base = apiBase(values.api, env);
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new WhyUsageError(`--api takes an http(s) URL (got ${JSON.stringify(base)})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new WhyUsageError(`--api takes an http(s) URL (got ${JSON.stringify(base)})`);
  return { profile: positional[0], journey: positional[1], api: base.replace(/\/+$/, ''), json };
}

interface Reply {
  status: number;
  body: any;
}

async function get(url: string, deps: WhyDeps): Promise<Reply> {
  const parsed = new URL(url);
  let headers: Record<string, string> = { accept: 'application/json' };
  if (!isLocal(parsed)) {
    const region = regionOf(parsed);
    if (!region) throw new WhyUsageError(`cannot tell the region of ${parsed.origin}: use its execute-api URL or set AWS_REGION`);
    headers = { ...headers, ...(await deps.sign(parsed, region)) };
  }
  let response;
  try {
    response = await deps.http(parsed, headers);
  } catch (error) {
    throw new WhyApiError(`cannot reach ${parsed.origin}: ${(error as Error).message}${isLocal(parsed) ? ' (is `npm start` running?)' : ''}`);
  }
  let body: unknown;
  try {
    body = response.body === '' ? undefined : JSON.parse(response.body);
  } catch {
    body = { detail: response.body.slice(0, 200) };
  }
  return { status: response.status, body };
}

/** The API refused or could not be reached: exit 1 with its message. */
export class WhyApiError extends Error {
  override readonly name = 'WhyApiError';
}

const detail = (reply: Reply) => String(reply.body?.detail ?? reply.body?.message ?? reply.body?.title ?? `HTTP ${reply.status}`);

/** The explanation of the profile's runs of the journey, the profile given by id or `namespace:value`. */
export async function fetchWhy(args: WhyArgs, deps: WhyDeps = { http: httpGet, sign: signedHeaders }): Promise<any> {
  let profileId = args.profile;
  // Profile ids hold no colon; `email:ann@example.com` is an identity.
  if (args.profile.includes(':')) {
    const found = await get(`${args.api}/profiles?identity=${encodeURIComponent(args.profile)}`, deps);
    if (found.status !== 200) throw new WhyApiError(found.status === 404 ? `no profile has the identity ${args.profile}` : detail(found));
    profileId = found.body.id;
  }
  const reply = await get(`${args.api}/profiles/${encodeURIComponent(profileId)}/journeys/${encodeURIComponent(args.journey)}`, deps);
  if (reply.status !== 200) throw new WhyApiError(detail(reply));
  return reply.body;
}

const time = (iso: string | undefined) => (iso ? iso.replace('T', ' ').replace(/\.\d{3}Z$/, 'Z') : '…');

/** Readable text: per run, its nodes with times, messages with outcomes, decisions with reasons, variants and end. */
export function renderWhy(why: any): string {
  const lines: string[] = [];
  const runs: any[] = why.runs ?? [];
  lines.push(`profile ${why.profileId} · journey ${why.journeyId} · ${runs.length === 0 ? 'no runs' : `${runs.length} run${runs.length === 1 ? '' : 's'}, newest first`}`);
  if (why.truncated) lines.push('(more runs exist than are shown; see --json and the API limits)');
  for (const run of runs) {
    const name = String(run.executionArn).split(':').pop();
    const end = run.end ? `${run.end.reason} at ${time(run.end.at)}${run.end.cause ? ` (${run.end.cause})` : run.end.error ? ` (${run.end.error})` : ''}` : run.status === 'UNKNOWN' ? 'unknown (history no longer kept)' : 'still running';
    lines.push('', `run ${name}`, `  started ${time(run.startedAt)} · ended: ${end}`);
    if (run.nodes.length > 0) lines.push('  nodes:');
    for (const node of run.nodes) lines.push(`    ${time(node.enteredAt)} → ${node.exitedAt ? time(node.exitedAt) : run.end ? '(run ended)' : 'now'}  ${node.node}${node.kind ? ` (${node.kind})` : ''}`);
    if (run.historyTruncated) lines.push('    … (history longer than was read)');
    if (run.messages.length > 0) lines.push('  messages:');
    for (const m of run.messages) {
      const why = m.reason ? ` (${m.reason})` : m.error ? ` (${m.error})` : '';
      const engaged = (['deliveredAt', 'openedAt', 'clickedAt', 'bouncedAt', 'complainedAt'] as const)
        .filter((k) => m[k])
        .map((k) => `${k.replace(/At$/, '')} ${time(m[k])}`);
      lines.push(`    ${m.node} · ${m.channel} · ${m.outcome}${why} · prepared ${time(m.preparedAt)}${engaged.length ? ` · ${engaged.join(', ')}` : ''}`);
    }
    if (run.decisions.length > 0) lines.push('  decisions:');
    for (const d of run.decisions) {
      for (const [placement, decision] of Object.entries<any>(d.placements)) {
        const chosen = decision.offers.map((o: any) => o.offerId).join(', ') || 'no offer';
        lines.push(`    ${d.node} at ${time(d.at)} · ${placement}: ${chosen}${decision.fallback ? ' (fallback)' : ''}`);
        for (const e of decision.explanation) {
          const verdict = e.chosen ? 'chosen' : !e.eligible ? `not eligible: ${e.reason ?? 'rule'}` : e.capped ? `capped (${e.capped})` : 'eligible, ranked lower';
          lines.push(`      ${e.offerId}: ${verdict}${e.score === null || e.score === undefined ? '' : ` · score ${e.score}`}`);
        }
      }
    }
    lines.push(`  variant: ${run.variants.length ? run.variants.map((v: any) => `${v.node} = ${v.variant}`).join(', ') : 'none'}`);
  }
  return `${lines.join('\n')}\n`;
}
