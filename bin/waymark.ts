/**
 * The `waymark` CLI: validate, compile, diagram and cost journey files. All logic lives here behind
 * `run`, which takes its arguments and I/O so tests call it with fakes; `bin/waymark.js` wires it to the process.
 */
import {
  buildCatalog,
  compileCatalog,
  formatViolation,
  JourneyCatalogError,
  type CatalogProblem,
  type CompiledJourney,
} from '../lambdas/core/journey/catalog';
import { estimateCost, STANDARD_USD_PER_TRANSITION } from '../lambdas/core/journey/cost';
import { toMermaid } from '../lambdas/core/journey/diagram';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readSegmentFiles } from '../lambdas/core/segments/files';
import { readRuleFiles } from '../lambdas/core/governance/files';
import type { SimulationEngine } from '../lambdas/simulate';
import type { DoctorClients } from '../lambdas/doctor';
import { OptionError, parseOptions } from './options';
import type { JourneyReport } from '../lambdas/core/measure/report';
import { renderReportHtml, renderReportText } from '../lambdas/core/measure/render';
import { apiBase, httpGet, isLocal, LOCAL_API, regionOf, signedHeaders, type HttpGet, type Signer } from './report-client';
import { fetchWhy, parseWhyArgs, renderWhy, WhyApiError, WhyUsageError } from './why';
import { CAMPAIGN_USAGE, campaignCostCommand, campaigns, CampaignUsageError, isCampaignFile } from './campaigns';
import type { HttpRequest } from './report-client';

export interface Io {
  /** Writes text (already ending in a newline) to standard output. */
  stdout(text: string): void;
  stderr(text: string): void;
  readFile(path: string): Promise<string>;
  /** Writes a file (`report --html`). */
  writeFile?(path: string, text: string): Promise<void>;
}

export const EXIT = { ok: 0, invalid: 1, usage: 2 } as const;

export const USAGE = `Usage: waymark <command> [arguments]

Commands:
  validate <file...>              check journey files; one line per file, or one per violation
  compile <file>                  print the compiled Amazon States Language (JSONPath) definition
  diagram <file>                  print a Mermaid flowchart of the journey
  cost <file> [--entries N]       state transitions on the longest path and Step Functions Standard cost
  segments <file...>              check segment files as a set (rules, unique ids, references, no cycles)
  rules <file...>                 check governance rule files as a set (schema and bounds, unique ids, at most 100)
  rules --estimate --script <script.json> [--profiles <profiles.json>] [--journey <file>]... [--start <ISO time>]
        [--until <time>] [--timezone <IANA zone>] [--json] [<rule file>...]
                                  ESTIMATE what the rules (default rules/*.json) would do: simulate each journey
                                  (default statemachines/*.json) on the script without rules, then count per rule the
                                  messages it would suppress or defer (rules/README.md says what the estimate leaves out)
  simulate <file> --events <script.json> [--profiles <profiles.json>] [--start <ISO time>] [--until <time>] [--json]
                                  run the journey on a virtual clock against a script of events: per profile the
                                  path taken, messages, suppressions, decisions and how each run ended
  doctor [--stage S] [--region R] [-c waymark:<setting>=<value>] [--json]
                                  check, read-only with your AWS credentials, what a first deploy of the stage needs
                                  (SES identity and production access, SMS origination and spend limit, push
                                  application and channels, Lambda concurrency); each problem with its fix
  report <journey-id> [--api <url>] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--json] [--html <file>]
                                  the journey's report (entries, exits, per node, goal, variants with uplift): a table,
                                  the JSON, or one self-contained HTML page
  why <ns:value | profile-id> <journey-id> [--api <url>] [--json]
                                  what happened to one person in a journey: per run the nodes with times, each
                                  message's outcome, each decision with its reasons, the variant and how it ended
${CAMPAIGN_USAGE}  help                            show this help

report and why call the API at --api, else at WAYMARK_API_URL, else the local stack (${LOCAL_API}); a deployed API
is called signed with SigV4 from the standard AWS credential chain (its region from its execute-api URL or AWS_REGION).
The campaigns API commands (list, show, run, runs, run-status, pause, resume, cancel) call it the same way.

Exit codes: 0 success, 1 invalid journey, campaign, segment or rule, a failed doctor check or an API error, 2 usage
error, unreadable file or invalid script (with its line).
`;

class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Loaded = { files: string[]; journeys: CompiledJourney[]; problems: CatalogProblem[] };

async function readAll(files: readonly string[], io: Io): Promise<{ path: string; text: string }[]> {
  return Promise.all(
    files.map(async (path) => {
      try {
        return { path, text: await io.readFile(path) };
      } catch (error) {
        throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
      }
    }),
  );
}

/** `waymark segments segments/*.json`: every problem on a line of its own, or one OK line per segment in evaluation order. */
async function segments(args: readonly string[], io: Io): Promise<number> {
  if (args.length === 0) throw new UsageError('missing <file>');
  const { segments: ordered, problems } = readSegmentFiles(await readAll(args, io));
  for (const problem of problems) io.stdout(`${problem}\n`);
  for (const segment of ordered) io.stdout(`OK segment "${segment.id}"\n`);
  return problems.length > 0 ? EXIT.invalid : EXIT.ok;
}

/** `waymark rules rules/*.json`: every problem on a line of its own, or one OK line per rule. */
async function rules(args: readonly string[], io: Io, deps: CliDeps): Promise<number> {
  if (args.includes('--estimate')) return estimate(args.filter((a) => a !== '--estimate'), io, deps);
  const { positional: files } = parseOptions(args, {});
  if (files.length === 0) throw new UsageError('missing <file>');
  const { rules: parsed, problems } = readRuleFiles(await readAll(files, io));
  for (const problem of problems) io.stdout(`${problem}\n`);
  for (const rule of parsed) io.stdout(`OK rule "${rule.id}" (${rule.kind}, ${rule.channel})\n`);
  return problems.length > 0 ? EXIT.invalid : EXIT.ok;
}

async function load(files: readonly string[], io: Io): Promise<Loaded> {
  const texts = await Promise.all(
    files.map(async (path) => {
      try {
        return { path, text: await io.readFile(path) };
      } catch (error) {
        throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
      }
    }),
  );
  return { files: [...files], ...buildCatalog(texts) };
}

function reportProblems(problems: readonly CatalogProblem[], io: Io): number {
  for (const problem of problems) io.stdout(`${formatViolation(problem)}\n`);
  return EXIT.invalid;
}

/** Loads exactly one file; returns the compiled journey, or writes its violations and returns undefined. */
async function loadOne(args: readonly string[], io: Io): Promise<CompiledJourney | undefined> {
  if (args.length !== 1) throw new UsageError(args.length === 0 ? 'missing <file>' : `expected one file, got ${args.length}`);
  const { journeys, problems } = await load(args, io);
  if (problems.length > 0) {
    reportProblems(problems, io);
    return undefined;
  }
  return journeys[0];
}

async function validate(args: readonly string[], io: Io): Promise<number> {
  if (args.length === 0) throw new UsageError('missing <file>');
  const { files, journeys, problems } = await load(args, io);
  for (const file of files) {
    const own = problems.filter((p) => p.file === file);
    if (own.length > 0) {
      reportProblems(own, io);
      continue;
    }
    const compiled = journeys.find((j) => j.path === file);
    if (compiled) io.stdout(`OK ${file}: journey "${compiled.journey.id}", ${compiled.journey.nodes.length} nodes, ${Object.keys(compiled.asl.States).length} states\n`);
  }
  return problems.length > 0 ? EXIT.invalid : EXIT.ok;
}

function parseEntries(args: readonly string[]): { files: string[]; entries: number } {
  const { positional: files, lists } = parseOptions(args, {
    lists: ['entries'], // the last one counts
    takes: { entries: (text) =>
      `a positive whole number (got ${text === undefined ? 'nothing' : JSON.stringify(text)})` },
    check: {
      entries: (text) => {
        if (!/^[1-9]\d*$/.test(text) || !Number.isSafeInteger(Number(text))) {
          throw new UsageError(`--entries takes a positive whole number (got ${JSON.stringify(text)})`);
        }
      },
    },
  });
  return { files, entries: Number(lists.entries?.at(-1) ?? 1_000_000) };
}

const usd = (amount: number) => `$${amount.toFixed(amount > 0 && amount < 0.01 ? 6 : 2)}`;

async function cost(args: readonly string[], io: Io, deps: CliDeps): Promise<number> {
  // A campaign file has its own options: find the file first (any value option's value is not it).
  const { positional } = parseOptions(args, { values: ['entries', 'recipients', 'batch-size'] });
  if (positional.length === 1) {
    let text: string | undefined;
    try {
      text = await io.readFile(positional[0]);
    } catch {
      text = undefined; // reported below by the journey path, as before
    }
    if (text !== undefined && isCampaignFile(positional[0], text)) return campaignCostCommand(args, io, deps.root ?? process.cwd());
  }
  const { files, entries } = parseEntries(args);
  const compiled = await loadOne(files, io);
  if (!compiled) return EXIT.invalid;
  const estimate = estimateCost(compiled.asl, entries);
  const perMillion = estimateCost(compiled.asl, 1_000_000).usd;
  io.stdout(
    [
      `journey "${compiled.journey.id}": at most ${estimate.transitionsPerEntry} state transitions per entry`,
      `longest path: ${estimate.path.join(' -> ')}`,
      `Step Functions Standard at $${(STANDARD_USD_PER_TRANSITION * 1000).toFixed(3)} per 1,000 transitions: ${usd(perMillion)} per million entries`,
      `for ${entries.toLocaleString('en-US')} entries: at most ${usd(estimate.usd)} (retries, Lambda, messaging and the free tier not included)`,
    ].join('\n') + '\n',
  );
  return EXIT.ok;
}

/** What `simulate` needs besides I/O; tests pass a fake engine. */
export interface CliDeps {
  /** @default the local runtime on a virtual clock (lambdas/simulate/engine.ts, loaded only by `simulate`) */
  engine?: () => Promise<SimulationEngine>;
  /** The repository whose journeys, segments and offers a simulation reads. @default the working directory */
  root?: string;
  /** The AWS clients `doctor` calls. @default SDK clients with the default credential chain, in `region` */
  doctorClients?: (region: string | undefined) => DoctorClients;
  /** The HTTP GET of `report` and `why` (bin/report-client.ts). @default fetch */
  http?: HttpGet;
  /** Their SigV4 headers for a deployed API. @default the standard AWS credential chain (execute-api) */
  sign?: Signer;
  /** The HTTP of the campaigns API commands (any method). @default fetch */
  request?: HttpRequest;
}

interface ReportArgs {
  journeyId: string;
  api: string;
  from?: string;
  to?: string;
  json: boolean;
  html?: string;
}

function parseReportArgs(args: readonly string[]): ReportArgs {
  const { positional: ids, values, flags } = parseOptions(args, {
    values: ['api', 'from', 'to', 'html'],
    flags: ['json'],
  });
  if (ids.length !== 1) throw new UsageError(ids.length === 0 ? 'missing <journey-id>' : `expected one journey id, got ${ids.length}`);
  for (const name of ['from', 'to'] as const) {
    const day = values[name];
    if (day !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new UsageError(`--${name} is a day YYYY-MM-DD`);
  }
  const { api, ...rest } = values; // from, to and html: only those given
  return { journeyId: ids[0], api: apiBase(api), json: flags.json === true, ...rest };
}

/** `waymark report`: 0 with the report; 1 when the API answers an error (its problem detail on stderr). */
async function report(args: readonly string[], io: Io, deps: CliDeps): Promise<number> {
  const parsed = parseReportArgs(args);
  let url: URL;
  try {
    url = new URL(`journeys/${encodeURIComponent(parsed.journeyId)}/report`, parsed.api.endsWith('/') ? parsed.api : `${parsed.api}/`);
  } catch {
    throw new UsageError(`--api is not a URL: ${parsed.api}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError('--api is an http(s) URL');
  if (parsed.from) url.searchParams.set('from', parsed.from);
  if (parsed.to) url.searchParams.set('to', parsed.to);
  let headers: Record<string, string> = { accept: 'application/json' };
  if (!isLocal(url)) {
    const region = regionOf(url);
    if (!region) throw new UsageError('cannot tell the API\'s region: use its execute-api URL or set AWS_REGION');
    headers = { ...headers, ...(await (deps.sign ?? signedHeaders)(url, region)) };
  }
  let answer: { status: number; body: string };
  try {
    answer = await (deps.http ?? httpGet)(url, headers);
  } catch (error) {
    io.stderr(`waymark: cannot reach ${url.origin} (${(error as Error).message}); is the local stack running (npm start)?\n`);
    return EXIT.invalid;
  }
  let body: unknown;
  try {
    body = JSON.parse(answer.body);
  } catch {
    body = undefined;
  }
  if (answer.status !== 200 || typeof body !== 'object' || body === null) {
    const problem = body as { title?: string; detail?: string } | undefined;
    io.stderr(`waymark: ${url.pathname} answered ${answer.status}${problem?.detail ? `: ${problem.detail}` : problem?.title ? `: ${problem.title}` : ''}\n`);
    return EXIT.invalid;
  }
  const journeyReport = body as JourneyReport;
  if (parsed.html !== undefined) {
    if (!io.writeFile) throw new Error('this environment cannot write files');
    await io.writeFile(parsed.html, renderReportHtml(journeyReport));
    io.stderr(`waymark: wrote ${parsed.html}\n`);
  }
  if (parsed.json) io.stdout(`${JSON.stringify(journeyReport, null, 2)}\n`);
  else if (parsed.html === undefined) io.stdout(renderReportText(journeyReport));
  return EXIT.ok;
}

/** `waymark why`: 0 with the explanation, 1 when the API answers an error (unknown profile or journey) or is unreachable. */
async function why(args: readonly string[], io: Io, deps: CliDeps): Promise<number> {
  let parsed;
  try {
    parsed = parseWhyArgs(args);
  } catch (error) {
    if (error instanceof WhyUsageError) throw new UsageError(error.message);
    throw error;
  }
  try {
    const explained = await fetchWhy(parsed, { http: deps.http ?? httpGet, sign: deps.sign ?? signedHeaders });
    io.stdout(parsed.json ? `${JSON.stringify(explained, null, 2)}\n` : renderWhy(explained));
    return EXIT.ok;
  } catch (error) {
    if (error instanceof WhyUsageError) throw new UsageError(error.message);
    if (!(error instanceof WhyApiError)) throw error;
    io.stderr(`waymark: ${error.message}\n`);
    return EXIT.invalid;
  }
}

interface DoctorArgs {
  stage?: string;
  region?: string;
  context: Record<string, string>;
  json: boolean;
}

function parseDoctorArgs(args: readonly string[]): DoctorArgs {
  const { values, lists, flags } = parseOptions(args, {
    values: ['stage', 'region'],
    dashless: ['stage', 'region'],
    lists: ['context'],
    aliases: { '-c': 'context' },
    flags: ['json'],
    // The same settings `cdk deploy -c waymark:<field>=<value>` takes.
    takes: { context: 'waymark:<setting>=<value> (got "")' },
    check: {
      context: (value, flag) => {
        if (!CONTEXT_SETTING.test(value)) {
          throw new UsageError(`${flag} takes waymark:<setting>=<value> (got ${JSON.stringify(value)})`);
        }
      },
      region: (value) => {
        if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(value)) {
          throw new UsageError(`--region takes a region name like eu-west-1 (got ${JSON.stringify(value)})`);
        }
      },
    },
    positional: (arg) => {
      throw new UsageError(`doctor takes no file (got ${JSON.stringify(arg)})`);
    },
  });
  const { stage, region } = values;
  const context = Object.create(null) as Record<string, string>;
  for (const setting of lists.context ?? []) {
    const [, field, value] = CONTEXT_SETTING.exec(setting)!;
    context[field] = value;
  }
  const json = flags.json === true;
  return { ...(stage !== undefined && { stage }), ...(region !== undefined && { region }), context, json };
}

const CONTEXT_SETTING = /^waymark:([A-Za-z]+)=(.*)$/;

/** The stage settings as `cdk synth` reads them: the "waymark" object and `waymark:<field>` keys of cdk.json and cdk.context.json. */
async function readStageContext(root: string, io: Io): Promise<Record<string, unknown>> {
  const settings: Record<string, unknown> = Object.create(null);
  for (const file of ['cdk.json', 'cdk.context.json']) {
    let text: string;
    try {
      text = await io.readFile(join(root, file));
    } catch {
      continue; // cdk.context.json is optional; a missing cdk.json leaves the defaults
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new UsageError(`${file} is not valid JSON: ${(error as Error).message}`);
    }
    const context: unknown = file === 'cdk.json' ? (json as { context?: unknown } | null)?.context : json;
    if (!context || typeof context !== 'object') continue;
    const object = Object.hasOwn(context, 'waymark') ? (context as Record<string, unknown>).waymark : undefined;
    if (object && typeof object === 'object' && !Array.isArray(object)) Object.assign(settings, object);
    for (const [key, value] of Object.entries(context)) if (key.startsWith('waymark:')) settings[key.slice('waymark:'.length)] = value;
  }
  return settings;
}

/** `waymark doctor`: 0 when every required check passes, 1 when one fails (warnings do not fail). */
async function doctor(args: readonly string[], io: Io, deps: CliDeps): Promise<number> {
  const parsed = parseDoctorArgs(args);
  const root = deps.root ?? process.cwd();
  const raw = { ...(await readStageContext(root, io)), ...parsed.context, ...(parsed.stage === undefined ? {} : { stage: parsed.stage }) };
  // Loaded here only: the stage schema, the journeys and the SDK clients are this command's alone.
  const { parseStageConfig, StageConfigError } = require('../lib/config') as typeof import('../lib/config');
  const { readDefinitionDir } = require('../lib/definition-files') as typeof import('../lib/definition-files');
  const doc = require('../lambdas/doctor') as typeof import('../lambdas/doctor');
  let config;
  try {
    config = parseStageConfig(raw);
  } catch (error) {
    if (error instanceof StageConfigError) throw new UsageError(error.message);
    throw error;
  }
  let journeys;
  try {
    journeys = compileCatalog(readDefinitionDir(join(root, 'statemachines')), 'statemachines/');
  } catch (error) {
    if (!(error instanceof JourneyCatalogError)) throw error;
    io.stdout(`FAIL  journeys: ${error.message}\n      fix: \`npx waymark validate statemachines/*.json\` shows each problem\n`);
    return EXIT.invalid;
  }
  const clients = (deps.doctorClients ?? defaultDoctorClients)(parsed.region);
  const region = parsed.region ?? (process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || undefined);
  const report = await doc.runDoctor(
    {
      stage: config.stage,
      // For the report only: without --region the SDK resolves it (environment, then the profile).
      ...(region === undefined ? {} : { region }),
      senderEmail: config.senderEmail,
      pushApplicationId: config.pushApplicationId,
      smsOriginationIdentity: config.smsOriginationIdentity,
      channels: doc.channelsUsed(journeys.map((j) => j.journey)),
    },
    clients,
  );
  io.stdout(parsed.json ? doc.renderJson(report) : doc.renderText(report));
  return report.ok ? EXIT.ok : EXIT.invalid;
}

function defaultDoctorClients(region: string | undefined): DoctorClients {
  const { SESv2Client } = require('@aws-sdk/client-sesv2') as typeof import('@aws-sdk/client-sesv2');
  const { PinpointSMSVoiceV2Client } = require('@aws-sdk/client-pinpoint-sms-voice-v2') as typeof import('@aws-sdk/client-pinpoint-sms-voice-v2');
  const { PinpointClient } = require('@aws-sdk/client-pinpoint') as typeof import('@aws-sdk/client-pinpoint');
  const { LambdaClient } = require('@aws-sdk/client-lambda') as typeof import('@aws-sdk/client-lambda');
  const options = region === undefined ? {} : { region };
  return { sesv2: new SESv2Client(options), sms: new PinpointSMSVoiceV2Client(options), pinpoint: new PinpointClient(options), lambda: new LambdaClient(options) };
}

interface SimulateArgs {
  journey: string;
  events: string;
  profiles?: string;
  start?: string;
  until?: string;
  json: boolean;
}

function parseSimulateArgs(args: readonly string[]): SimulateArgs {
  const { positional: files, values, flags } = parseOptions(args, {
    values: ['events', 'profiles', 'start', 'until'],
    flags: ['json'],
  });
  if (files.length !== 1) {
    throw new UsageError(files.length === 0 ? 'missing <file>' : `expected one journey file, got ${files.length}`);
  }
  const { events, ...optional } = values; // profiles, start and until: only those given
  if (events === undefined) throw new UsageError('simulate needs --events <script.json>');
  return { journey: files[0], events, json: flags.json === true, ...optional };
}

/** The simulation module, loaded by the commands that simulate only, after quieting the runtime's Powertools. */
function simulationModule(): typeof import('../lambdas/simulate') {
  // The runtime's handlers run in this process: their Powertools logs and metrics would mix with the report.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  process.env.AWS_REGION ??= 'local';
  // `require`: the bin runs through tsx's CommonJS hook.
  return require('../lambdas/simulate') as typeof import('../lambdas/simulate');
}

/** `waymark simulate`: 1 for an invalid journey; 2 for a wrong script or profiles file, naming the line. */
async function simulate(args: readonly string[], io: Io, deps: CliDeps): Promise<number> {
  const parsed = parseSimulateArgs(args);
  const sim = simulationModule();
  const [journeyText, eventsText, profilesText] = await Promise.all(
    [parsed.journey, parsed.events, parsed.profiles].map(async (path) =>
      path === undefined ? undefined : (await readAll([path], io))[0].text,
    ),
  );
  try {
    const journey = sim.loadJourney(parsed.journey, journeyText!);
    const start = parsed.start === undefined ? undefined : sim.parseStart(parsed.start);
    const script = sim.parseScript(eventsText!, { file: parsed.events, ...(start === undefined ? {} : { start }) });
    const profiles = profilesText === undefined ? [] : sim.parseProfiles(profilesText, { file: parsed.profiles! });
    const until = parsed.until === undefined ? undefined : sim.parseUntil(parsed.until, script.start);
    const engine = await (deps.engine ?? sim.defaultEngine)();
    const root = deps.root ?? process.cwd();
    const input = { journeyFile: parsed.journey, journey, root, script: script.entries, profiles, start: script.start };
    // This process only simulates: no error stacks while it runs (a fifth of its time; see withoutStackTraces).
    const report = await sim
      .withoutStackTraces(() => engine.run(until === undefined ? input : { ...input, until }))
      .catch((error: unknown) => {
        // The engine names entries by line; the file is the script's.
        const unnamed = error instanceof sim.ScriptError && error.file === undefined;
        throw unnamed ? new sim.ScriptError(parsed.events, error.problems) : error;
      });
    io.stdout(parsed.json ? sim.renderJson(report) : sim.renderText(report));
    return EXIT.ok;
  } catch (error) {
    if (error instanceof sim.InvalidJourneyError) {
      for (const problem of error.problems) io.stdout(`${problem}\n`);
      return EXIT.invalid;
    }
    if (!(error instanceof sim.ScriptError)) throw error;
    for (const problem of error.problems.slice(0, sim.SCRIPT_LIMITS.problems)) {
      io.stderr(`waymark: ${sim.formatProblem(error.file, problem)}\n`);
    }
    const more = error.problems.length - sim.SCRIPT_LIMITS.problems;
    if (more > 0) io.stderr(`waymark: … and ${more} more problems\n`);
    return EXIT.usage;
  }
}

interface EstimateArgs {
  script: string;
  profiles?: string;
  start?: string;
  until?: string;
  timezone: string;
  journeys: string[];
  rules: string[];
  json: boolean;
}

function parseEstimateArgs(args: readonly string[]): EstimateArgs {
  const { positional: rules, values, lists, flags } = parseOptions(args, {
    values: ['script', 'profiles', 'start', 'until', 'timezone'],
    lists: ['journey'],
    flags: ['json'],
  });
  const { script, timezone, ...optional } = values; // profiles, start and until: only those given
  if (script === undefined) throw new UsageError('rules --estimate needs --script <script.json>');
  const json = flags.json === true;
  return { script, timezone: timezone ?? 'UTC', journeys: lists.journey ?? [], rules, json, ...optional };
}

/** The `*.json` files of a folder under the repository, sorted (a missing folder has none). */
function jsonFilesUnder(root: string, folder: string): string[] {
  try {
    return readdirSync(join(root, folder)).filter((n) => n.endsWith('.json')).sort().map((n) => join(root, folder, n));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/**
 * `waymark rules --estimate`: 1 for invalid rules or journeys; 2 for a usage error or a wrong script or profiles file.
 * An estimate (lambdas/simulate/rule-estimate.ts): each journey is simulated without rules, then its messages replayed.
 */
async function estimate(args: readonly string[], io: Io, deps: CliDeps): Promise<number> {
  const parsed = parseEstimateArgs(args);
  const root = deps.root ?? process.cwd();
  const sim = simulationModule();
  if (!sim.isTimeZoneName(parsed.timezone)) throw new UsageError(`--timezone is an IANA time zone, e.g. Europe/Paris (got ${JSON.stringify(parsed.timezone)})`);
  const ruleFiles = parsed.rules.length > 0 ? parsed.rules : jsonFilesUnder(root, 'rules');
  const journeyFiles = parsed.journeys.length > 0 ? parsed.journeys : jsonFilesUnder(root, 'statemachines');
  if (journeyFiles.length === 0) throw new UsageError('no journeys to simulate: give --journey <file>');
  const { rules: ruleSet, problems } = readRuleFiles(await readAll(ruleFiles, io));
  if (problems.length > 0) {
    for (const problem of problems) io.stdout(`${problem}\n`);
    return EXIT.invalid;
  }
  const [scriptText, profilesText] = await Promise.all(
    [parsed.script, parsed.profiles].map(async (path) => (path === undefined ? undefined : (await readAll([path], io))[0].text)),
  );
  const journeyTexts = await readAll(journeyFiles, io);
  try {
    const journeys = journeyTexts.map((f) => ({ file: f.path, journey: sim.loadJourney(f.path, f.text) }));
    const start = parsed.start === undefined ? undefined : sim.parseStart(parsed.start);
    const script = sim.parseScript(scriptText!, { file: parsed.script, ...(start === undefined ? {} : { start }) });
    const profiles = profilesText === undefined ? [] : sim.parseProfiles(profilesText, { file: parsed.profiles! });
    const until = parsed.until === undefined ? undefined : sim.parseUntil(parsed.until, script.start);
    const engine = await (deps.engine ?? sim.defaultEngine)();
    const input = { engine, root, journeys, script: script.entries, profiles, start: script.start, rules: ruleSet, defaultTimeZone: parsed.timezone };
    const result = await sim
      .withoutStackTraces(() => sim.estimateRules(until === undefined ? input : { ...input, until }))
      .catch((error: unknown) => {
        const unnamed = error instanceof sim.ScriptError && error.file === undefined;
        throw unnamed ? new sim.ScriptError(parsed.script, error.problems) : error;
      });
    io.stdout(parsed.json ? `${JSON.stringify(result, null, 2)}\n` : sim.renderEstimate(result));
    return EXIT.ok;
  } catch (error) {
    if (error instanceof sim.InvalidJourneyError) {
      for (const problem of error.problems) io.stdout(`${problem}\n`);
      return EXIT.invalid;
    }
    if (!(error instanceof sim.ScriptError)) throw error;
    for (const problem of error.problems.slice(0, sim.SCRIPT_LIMITS.problems)) io.stderr(`waymark: ${sim.formatProblem(error.file, problem)}\n`);
    return EXIT.usage;
  }
}

/** Runs the CLI with the arguments after the program name (`process.argv.slice(2)`); resolves to the exit code. */
export async function run(argv: readonly string[], io: Io, deps: CliDeps = {}): Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case 'validate':
        return await validate(args, io);
      case 'compile': {
        const compiled = await loadOne(args, io);
        if (!compiled) return EXIT.invalid;
        io.stdout(`${JSON.stringify(compiled.asl, null, 2)}\n`);
        return EXIT.ok;
      }
      case 'diagram': {
        const compiled = await loadOne(args, io);
        if (!compiled) return EXIT.invalid;
        io.stdout(toMermaid(compiled.journey));
        return EXIT.ok;
      }
      case 'cost':
        return await cost(args, io, deps);
      case 'campaigns':
        return await campaigns(args, io, deps);
      case 'segments':
        return await segments(args, io);
      case 'rules':
        return await rules(args, io, deps);
      case 'simulate':
        return await simulate(args, io, deps);
      case 'doctor':
        return await doctor(args, io, deps);
      case 'report':
        return await report(args, io, deps);
      case 'why':
        return await why(args, io, deps);
      case 'help':
      case '--help':
      case '-h':
        io.stdout(USAGE);
        return EXIT.ok;
      case undefined:
        throw new UsageError('missing command');
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof OptionError || error instanceof CampaignUsageError)) throw error;
    io.stderr(`waymark: ${error.message}\n\n${USAGE}`);
    return EXIT.usage;
  }
}
