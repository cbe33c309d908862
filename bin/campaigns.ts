/**
 * `waymark campaigns …` and `waymark cost campaigns/<file>`: campaign files checked against the repository's catalog,
 * their cost per million recipients from the compiled definition, and the campaigns API (list, show, run, runs, run
 * status, pause, resume, cancel) of the local stack or a deployed API signed with SigV4.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileCampaign, DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE } from '../lambdas/core/campaigns/compile';
import { IDEMPOTENCY_KEY_PATTERN } from '../lambdas/core/campaigns/control';
import { campaignCost, type CampaignCost } from '../lambdas/core/campaigns/cost';
import type { Campaign } from '../lambdas/core/campaigns/schema';
import { validateCampaign, type CampaignCatalog, type CampaignViolation } from '../lambdas/core/campaigns/validate';
import { OptionError, parseOptions } from './options';
import { apiBase, httpRequest, isLocal, regionOf, signedHeaders, type HttpRequest, type Signer } from './report-client';

/** The I/O the campaign commands use (a subset of bin/waymark.ts's Io). */
export interface CampaignIo {
  stdout(text: string): void;
  stderr(text: string): void;
  readFile(path: string): Promise<string>;
}

export interface CampaignCliDeps {
  /** The repository whose campaigns/, segments/, statemachines/ and placements/ are read. @default the working directory */
  root?: string;
  /** HTTP for the API commands. @default fetch */
  request?: HttpRequest;
  /** SigV4 headers for a deployed API. @default the standard AWS credential chain (execute-api) */
  sign?: Signer;
}

/** A wrong command line: bin/waymark.ts prints it with the usage and exits 2. */
export class CampaignUsageError extends Error {
  override readonly name = 'CampaignUsageError';
}

const EXIT = { ok: 0, invalid: 1 } as const;

export const CAMPAIGN_USAGE = `  campaigns validate [<file>...]  check campaign files (default campaigns/*.json) against the repository's segments,
                                  journeys and placements; one line per file, or one per violation (file, step, field)
  campaigns list|show <id>|run <id> [--dry-run] [--idempotency-key K]|runs <id>|run-status <id> <run-id>
        |pause|resume|cancel <id> <run-id> [--api <url>] [--json]
                                  the campaigns API: deployed campaigns, one campaign, start a run (a dry run answers
                                  the audience and per-step estimates, sending nothing), its runs and counts, control;
                                  a run is sent with an Idempotency-Key (a new UUID unless given): when the answer
                                  is lost, the same command with the key printed answers that run, nothing sent twice
  cost <campaign file> [--recipients N] [--batch-size B]
                                  a campaign file (under campaigns/, or any file with "steps"): Step Functions, Lambda
                                  and S3 cost of one run per million recipients, from the compiled definition
`;

/** The `*.json` file names of a folder of the repository, sorted (a missing folder has none). */
function jsonNames(root: string, folder: string): string[] {
  try {
    return readdirSync(join(root, folder)).filter((n) => n.endsWith('.json')).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** The ids the repository defines, read from its folders; an unreadable file is skipped (its own command reports it). */
export function repositoryCatalog(root: string): Required<CampaignCatalog> {
  const files = (folder: string) =>
    jsonNames(root, folder).flatMap((name) => {
      try {
        const json = JSON.parse(readFileSync(join(root, folder, name), 'utf8')) as { id?: unknown; entry?: { kind?: unknown } };
        return typeof json?.id === 'string' ? [json as { id: string; entry?: { kind?: unknown } }] : [];
      } catch {
        return [];
      }
    });
  const ids = (folder: string) => new Set(files(folder).map((f) => f.id));
  return {
    segments: ids('segments'),
    journeys: ids('statemachines'),
    placements: ids('placements'),
    campaigns: ids('campaigns'),
    apiJourneys: new Set(files('statemachines').filter((j) => j.entry?.kind === 'api').map((j) => j.id)),
  };
}

export function formatCampaignViolation(file: string, v: CampaignViolation): string {
  return `${file}: ${v.path}${v.nodeId ? ` (step "${v.nodeId}")` : ''}: ${v.message}`;
}

async function readText(path: string, io: CampaignIo): Promise<string> {
  try {
    return await io.readFile(path);
  } catch (error) {
    throw new CampaignUsageError(`cannot read ${path}: ${(error as Error).message}`);
  }
}

type Checked = { file: string; campaign?: Campaign; states?: number; problems: string[] };

/** Parses, validates against the catalog and compiles one file; never throws for bad content. */
function checkFile(file: string, text: string, catalog: CampaignCatalog, batchSize = DEFAULT_BATCH_SIZE): Checked {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { file, problems: [`${file}: (file): not valid JSON: ${(error as Error).message}`] };
  }
  const result = validateCampaign(json, catalog);
  if (!result.ok) return { file, problems: result.violations.map((v) => formatCampaignViolation(file, v)) };
  try {
    const definition = compileCampaign(result.campaign, { batchSize });
    return { file, campaign: result.campaign, states: Object.keys(definition.States).length, problems: [] };
  } catch (error) {
    return { file, problems: [`${file}: (file): does not compile: ${(error as Error).message}`] };
  }
}

/** `waymark campaigns validate [files…]`: every problem on its own line, else one OK line per file. */
async function validate(args: readonly string[], io: CampaignIo, root: string): Promise<number> {
  const { positional } = parseOptions(args, {});
  const files = positional.length > 0 ? positional : jsonNames(root, 'campaigns').map((n) => join('campaigns', n));
  if (files.length === 0) throw new CampaignUsageError('no campaign files: campaigns/ has none, give <file>');
  const texts = await Promise.all(files.map(async (file) => ({ file, text: await readText(positional.length > 0 ? file : join(root, file), io) })));
  const catalog = repositoryCatalog(root);
  // The files checked are the campaigns a messaged exclusion may name, besides those of campaigns/.
  const ids = texts.flatMap(({ text }) => {
    try {
      const id = (JSON.parse(text) as { id?: unknown } | null)?.id;
      return typeof id === 'string' ? [id] : [];
    } catch {
      return [];
    }
  });
  const withOwn = { ...catalog, campaigns: new Set([...catalog.campaigns, ...ids]) };
  const checked = texts.map(({ file, text }) => checkFile(file, text, withOwn));
  const fileOf = new Map<string, string>();
  let invalid = false;
  for (const result of checked) {
    const id = result.campaign?.id;
    if (id !== undefined && fileOf.has(id)) result.problems.push(`${result.file}: id: campaign "${id}" is also defined in ${fileOf.get(id)}`);
    if (id !== undefined && !fileOf.has(id)) fileOf.set(id, result.file);
    for (const problem of result.problems) io.stdout(`${problem}\n`);
    if (result.problems.length > 0) invalid = true;
    else if (result.campaign) {
      const steps = Object.keys(result.campaign.steps).length;
      io.stdout(`OK ${result.file}: campaign "${result.campaign.id}", ${steps} step${steps === 1 ? '' : 's'}, ${result.states} states\n`);
    }
  }
  return invalid ? EXIT.invalid : EXIT.ok;
}

/** Whether `cost` is given a campaign: a file under campaigns/, or one whose JSON has `steps` and no `nodes`. */
export function isCampaignFile(path: string, text: string): boolean {
  if (/(^|[\\/])campaigns[\\/][^\\/]+$/.test(path)) return true;
  try {
    const json = JSON.parse(text) as Record<string, unknown> | null;
    return typeof json === 'object' && json !== null && 'steps' in json && !('nodes' in json);
  } catch {
    return false;
  }
}

const whole = (text: string) => /^[1-9]\d*$/.test(text) && Number.isSafeInteger(Number(text));
const usd = (amount: number) => `$${amount.toFixed(amount > 0 && amount < 0.01 ? 6 : 2)}`;
const count = (n: number) => Math.round(n).toLocaleString('en-US');
/** The issue's aim: at most $5 of orchestration per million recipients. */
export const COST_AIM_USD_PER_MILLION = 5;

export function renderCampaignCost(campaign: Campaign, cost: CampaignCost): string {
  const perMillion = cost.usdPerMillion;
  const lines = [
    `campaign "${campaign.id}": ${count(cost.recipients)} recipients, Distributed Map batches of ${cost.batchSize || 'n/a'} members`,
    `  Step Functions: ${count(cost.stepFunctions.transitions)} state transitions, ${count(cost.stepFunctions.childExecutions)} child executions: ${usd(cost.stepFunctions.usd)}`,
    `  Lambda:         ${count(cost.lambda.invocations)} invocations, ${cost.lambda.gbSeconds.toFixed(1)} GB-seconds: ${usd(cost.lambda.usd)}`,
    `  S3:             ${count(cost.s3.gets)} GETs, ${count(cost.s3.puts)} PUTs: ${usd(cost.s3.usd)}`,
    '  per step:',
    // The audience's unit is a page (its children are the scan segments, in the Step Functions line).
    ...cost.steps.map((s) => `    ${(s.step || '(audience)').padEnd(20)} ${s.kind.padEnd(13)} ${count(s.members).padStart(11)} members ${count(s.batches).padStart(8)} ${s.kind === 'audience' ? 'pages  ' : 'batches'} ${usd(s.usd).padStart(10)}`),
    `total ${usd(cost.usd)} for ${count(cost.recipients)} recipients: ${usd(perMillion)} per million recipients ` +
      `(aim: at most ${usd(COST_AIM_USD_PER_MILLION)}${perMillion <= COST_AIM_USD_PER_MILLION ? ', met' : ', NOT met'})`,
    'list prices (us-east-1), free tiers, retries and pauses not counted; messaging, DynamoDB and data transfer left out',
  ];
  return `${lines.join('\n')}\n`;
}

/** `waymark cost <campaign file> [--recipients N] [--batch-size B]`. */
export async function campaignCostCommand(args: readonly string[], io: CampaignIo, root: string): Promise<number> {
  const positiveCheck = (name: string, max = Number.MAX_SAFE_INTEGER) => (text: string) => {
    if (!whole(text) || Number(text) > max) throw new CampaignUsageError(`--${name} takes a whole number from 1 to ${max.toLocaleString('en-US')} (got ${JSON.stringify(text)})`);
  };
  const { positional, values } = parseOptions(args, {
    values: ['recipients', 'batch-size'],
    check: { recipients: positiveCheck('recipients', 1_000_000_000), 'batch-size': positiveCheck('batch-size', MAX_BATCH_SIZE) },
  });
  if (positional.length !== 1) throw new CampaignUsageError(positional.length === 0 ? 'missing <file>' : `expected one file, got ${positional.length}`);
  const file = positional[0];
  const batchSize = Number(values['batch-size'] ?? DEFAULT_BATCH_SIZE);
  const checked = checkFile(file, await readText(file, io), repositoryCatalog(root), batchSize);
  if (!checked.campaign) {
    for (const problem of checked.problems) io.stdout(`${problem}\n`);
    return EXIT.invalid;
  }
  const definition = compileCampaign(checked.campaign, { batchSize });
  const recipients = Number(values.recipients ?? 1_000_000);
  io.stdout(renderCampaignCost(checked.campaign, campaignCost(checked.campaign, definition, { recipients })));
  return EXIT.ok;
}

// ---------------------------------------------------------------------------------------------------------------
// The API commands

/** The API refused or could not be reached: exit 1 with its message. */
class ApiError extends Error {
  override readonly name = 'ApiError';
  /** The API's status; undefined when it could not be reached (the request may or may not have arrived). */
  status?: number;
}

type Answer = { status: number; body: any };

async function call(
  method: 'GET' | 'POST',
  base: string,
  path: string,
  deps: CampaignCliDeps,
  body?: string,
  extra: Record<string, string> = {},
): Promise<Answer> {
  let url: URL;
  try {
    url = new URL(path, base.endsWith('/') ? base : `${base}/`);
  } catch {
    throw new CampaignUsageError(`--api takes an http(s) URL (got ${JSON.stringify(base)})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CampaignUsageError(`--api takes an http(s) URL (got ${JSON.stringify(base)})`);
  let headers: Record<string, string> = { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
  if (!isLocal(url)) {
    const region = regionOf(url);
    if (!region) throw new CampaignUsageError(`cannot tell the region of ${url.origin}: use its execute-api URL or set AWS_REGION`);
    headers = { ...headers, ...(await (deps.sign ?? signedHeaders)(url, region, { method, ...(body === undefined ? {} : { body }) })) };
  }
  // Sent unsigned (SigV4 checks only the headers it lists as signed).
  headers = { ...headers, ...extra };
  let answer;
  try {
    answer = await (deps.request ?? httpRequest)(method, url, headers, body);
  } catch (error) {
    throw new ApiError(`cannot reach ${url.origin} (${(error as Error).message})${isLocal(url) ? '; is the local stack running (npm start)?' : ''}`);
  }
  let parsed: unknown;
  try {
    parsed = answer.body === '' ? undefined : JSON.parse(answer.body);
  } catch {
    parsed = { detail: answer.body.slice(0, 200) };
  }
  if (answer.status < 200 || answer.status > 299) {
    const problem = parsed as { detail?: string; title?: string; errors?: { field: string; message: string }[] } | undefined;
    const fields = (problem?.errors ?? []).map((e) => `; ${e.field}: ${e.message}`).join('');
    const why = problem?.detail ? `: ${problem.detail}` : problem?.title ? `: ${problem.title}` : '';
    const error = new ApiError(`${method} ${url.pathname} answered ${answer.status}${why}${fields}`);
    error.status = answer.status;
    throw error;
  }
  return { status: answer.status, body: parsed };
}

type Total = { total: number; by?: Record<string, number> };
const totalText = (name: string, t: Total) =>
  `${name} ${t.total}${t.by ? ` (${Object.entries(t.by).map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}`;

/** A run and its counts as text: a status line, run-level counts, one line per step. */
export function renderRun(run: any): string {
  const lines = [`run ${run.runId} of "${run.campaignId}": ${run.status}${run.dryRun ? ' (dry run: nothing sent, counts are estimates)' : ''}`];
  const times = ['createdAt', 'startedAt', 'endedAt'].filter((k) => typeof run[k] === 'string').map((k) => `${k.replace('At', '')} ${run[k]}`);
  if (times.length > 0) lines.push(`  ${times.join(', ')}`);
  if (run.error) lines.push(`  error: ${run.error}`);
  const counts = run.counts as { run?: Record<string, Total>; steps?: Record<string, Record<string, Total>> } | undefined;
  if (counts?.run && Object.keys(counts.run).length > 0) lines.push(`  run: ${Object.entries(counts.run).map(([n, t]) => totalText(n, t)).join(', ')}`);
  for (const [step, names] of Object.entries(counts?.steps ?? {})) {
    lines.push(`  step ${step}: ${Object.entries(names).map(([n, t]) => totalText(n, t)).join(', ')}`);
  }
  if (run.conversions) lines.push(...conversionLines(run.conversions));
  return `${lines.join('\n')}\n`;
}

const percent = (f: any) => (f?.available ? `${(f.value * 100).toFixed(2)}%` : 'n/a');
const points = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)} pts`;
const money = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2));

/** The goal's lines of a run: conversions, revenue, each step, and each comparison with its always-valid interval. */
export function conversionLines(c: any): string[] {
  if (!c.available) return [`  conversions: ${c.reason}`];
  const rate = `${percent(c.conversionRate)}), revenue ${money(c.revenue)}`;
  const lines = [`  goal ${c.goal.event} within ${c.goal.within}: converted ${c.converted} of ${c.members} members (${rate}`];
  if (c.controlGroup.members > 0) {
    const g = c.controlGroup;
    const worth = `revenue ${money(g.revenue)}`;
    lines.push(`  control group: converted ${g.converted} of ${g.members} (${percent(g.conversionRate)}), ${worth}`);
  }
  for (const [step, s] of Object.entries(c.steps ?? {}) as [string, any][]) {
    const worth = `revenue ${money(s.revenue)}`;
    lines.push(`  step ${step}: converted ${s.converted} of ${s.sent} sent (${percent(s.conversionRate)}), ${worth}`);
  }
  for (const e of c.experiments ?? []) {
    const name = e.kind === 'campaign-control-group' ? 'audience vs control group' : `split ${e.node}`;
    for (const cmp of e.comparisons ?? []) {
      const seq = cmp.sequential;
      const significant = seq.available && (seq.interval.lower > 0 || seq.interval.upper < 0) ? ', significant' : '';
      const interval = seq.available ? `${points(seq.interval.lower)} to ${points(seq.interval.upper)}` : '';
      const text = seq.available
        ? `uplift ${points(seq.difference)} (95% always-valid interval ${interval}, p ${seq.pValue.toFixed(3)}${significant})`
        : `uplift not available: ${seq.reason}`;
      lines.push(`  ${name}: ${cmp.variant} vs ${cmp.against}: ${text}`);
    }
  }
  return lines;
}

const scheduleText = (s: any) =>
  s?.type === 'recurring' ? `cron ${s.cron} ${s.timeZone}` : s?.type === 'once' ? `once at ${s.at}` : String(s?.type ?? 'on demand');

const ARITY: Record<string, number> = { list: 0, show: 1, run: 1, runs: 1, 'run-status': 2, pause: 2, resume: 2, cancel: 2 };

/** `waymark campaigns <list|show|run|runs|run-status|pause|resume|cancel>`. */
async function api(sub: string, args: readonly string[], io: CampaignIo, deps: CampaignCliDeps): Promise<number> {
  const { positional, values, flags } = parseOptions(args, {
    values: sub === 'run' ? ['api', 'idempotency-key'] : ['api'],
    flags: sub === 'run' ? ['json', 'dry-run'] : ['json'],
    takes: { api: 'a URL', 'idempotency-key': 'a key: 1 to 128 letters, digits and - _ . : ~ + / =' },
    check: {
      'idempotency-key': (value, flag) => {
        if (IDEMPOTENCY_KEY_PATTERN.test(value)) return;
        const got = JSON.stringify(value.slice(0, 40));
        throw new OptionError(`${flag} takes 1 to 128 letters, digits and - _ . : ~ + / = (got ${got})`);
      },
    },
  });
  const arity = ARITY[sub];
  if (positional.length !== arity) {
    const names = ['<id>', '<run-id>'].slice(0, arity).join(' ');
    throw new CampaignUsageError(`campaigns ${sub} takes ${arity === 0 ? 'no argument' : names} (got ${positional.length})`);
  }
  const [id, runId] = positional.map(encodeURIComponent);
  const base = apiBase(values.api);
  const json = flags.json === true;
  const out = (body: unknown, text: () => string) => io.stdout(json ? `${JSON.stringify(body, null, 2)}\n` : text());
  if (sub === 'list') {
    const { body } = await call('GET', base, 'campaigns', deps);
    out(body, () => (body.campaigns as any[]).map((c) => `${c.id}  ${c.name}  (${scheduleText(c.schedule)})\n`).join('') || 'no campaigns\n');
  } else if (sub === 'show') {
    const { body } = await call('GET', base, `campaigns/${id}`, deps);
    out(body, () => {
      const steps = Object.entries(body.definition?.steps ?? {}).map(([s, step]: [string, any]) => `${s} (${step.kind}${step.channel ? ` ${step.channel}` : ''})`);
      const lines = [
        `${body.id}: ${body.name} (version ${body.version})`,
        `  schedule: ${scheduleText(body.schedule)}${body.schedule?.next ? `, next ${body.schedule.next}` : ''}`,
        `  steps from ${body.definition?.start}: ${steps.join(', ')}`,
        ...((body.lastRuns ?? []) as any[]).map((r) => `  run ${r.runId}: ${r.status}${r.dryRun ? ' (dry run)' : ''} ${r.createdAt}`),
      ];
      return `${lines.join('\n')}\n`;
    });
  } else if (sub === 'run') {
    // One key per invocation: re-running with it after a lost answer gets the same run, never a second one.
    const key = values['idempotency-key'] ?? randomUUID();
    const request = JSON.stringify(flags['dry-run'] ? { dryRun: true } : {});
    let answer: Answer;
    try {
      answer = await call('POST', base, `campaigns/${id}/runs`, deps, request, { 'idempotency-key': key });
    } catch (error) {
      // No answer or a 5xx: the run may have started; the key finds it without starting another.
      if (error instanceof ApiError && (error.status === undefined || error.status >= 500)) {
        const again = `run the same command with --idempotency-key ${key} to get it, sending nothing twice`;
        error.message += `\nwaymark: the run may have started: ${again}`;
      }
      throw error;
    }
    const { status, body } = answer;
    out(body, () => renderRun(body) + (status === 202 ? `  follow it: waymark campaigns run-status ${body.campaignId} ${body.runId}\n` : ''));
  } else if (sub === 'runs') {
    const { body } = await call('GET', base, `campaigns/${id}/runs`, deps);
    out(body, () => (body.runs as any[]).map((r) => `${r.runId}  ${r.status}${r.dryRun ? ' (dry run)' : ''}  ${r.createdAt}\n`).join('') || 'no runs\n');
  } else if (sub === 'run-status') {
    const { body } = await call('GET', base, `campaigns/${id}/runs/${runId}`, deps);
    out(body, () => renderRun(body));
  } else {
    const { body } = await call('POST', base, `campaigns/${id}/runs/${runId}/${sub}`, deps);
    out(body, () => renderRun(body));
  }
  return EXIT.ok;
}

/** `waymark campaigns <sub> …`: 0, 1 for invalid files or an API error; usage errors are thrown (exit 2). */
export async function campaigns(args: readonly string[], io: CampaignIo, deps: CampaignCliDeps = {}): Promise<number> {
  const [sub, ...rest] = args;
  const root = deps.root ?? process.cwd();
  try {
    if (sub === 'validate') return await validate(rest, io, root);
    if (sub !== undefined && Object.hasOwn(ARITY, sub)) return await api(sub, rest, io, deps);
  } catch (error) {
    if (error instanceof OptionError) throw new CampaignUsageError(error.message);
    if (!(error instanceof ApiError)) throw error;
    io.stderr(`waymark: ${error.message}\n`);
    return EXIT.invalid;
  }
  throw new CampaignUsageError(sub === undefined ? 'campaigns needs a subcommand' : `unknown campaigns subcommand ${JSON.stringify(sub)}`);
}
