/**
 * The seam between the simulation's inputs and outputs (script.ts, report.ts) and the engine that runs a journey's
 * compiled ASL on a virtual clock with in-memory stores; and `simulate()`, the helper a journey's jest test calls.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { buildCatalog, formatViolation } from '../core/journey/catalog';
import type { Journey } from '../core/journey/schema';
import type { Rule } from '../core/governance/rules';
import { validateJourney } from '../core/journey/validate';
import type {
  ProfileReport,
  ReportDecision,
  ReportMessage,
  ReportSuppression,
  RunReport,
  SimulationReport,
} from './report';
import { nodeVisits, renderText } from './report';
import {
  parseStart,
  parseUntil,
  readProfiles,
  readScript,
  type ScriptEntry,
  type ScriptProblem,
  type StartProfile,
} from './script';

export interface SimulationInput {
  /** Where the journey came from, for messages (a path relative to `root`, or absolute). */
  journeyFile: string;
  /**
   * The journey to simulate, validated. It replaces a journey of the same id in `root`'s statemachines/, so a draft
   * or a changed copy of a playbook runs instead of the deployed one.
   */
  journey: Journey;
  /** The repository: the other journeys, segments, offers and placements it depends on are read from its folders. */
  root: string;
  /** In time order (entries at the same time in script order). */
  script: ScriptEntry[];
  /** Exist before the first entry (their attributes and consent as the API would have set them at the start). */
  profiles: StartProfile[];
  /** The virtual clock's time when the simulation starts. */
  start: Date;
  /**
   * Time runs at least until then (the script's last entry otherwise), then until every run has ended: for what time
   * alone brings about (an anniversary found by the hourly re-check, a wait with nothing after it in the script).
   */
  until?: Date;
  /** The governance rules in force; default: `root`'s rules/ (`[]`: none, as `waymark rules --estimate` simulates). */
  rules?: readonly Rule[];
}

/**
 * Runs a simulation. Throws InvalidJourneyError when the journeys, segments or offers it reads do not validate, and
 * ScriptError (with `scriptProblem`) for an entry the platform would refuse (an unknown profile, a journey that is not
 * API-triggered); the CLI answers them with exit 1 and 2.
 */
export interface SimulationEngine {
  run(input: SimulationInput): Promise<SimulationReport>;
}

/** The journey (or a definition it depends on) does not validate: one line per problem. */
export class InvalidJourneyError extends Error {
  override readonly name = 'InvalidJourneyError';
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

/** The problem with one script entry, for an engine's ScriptError (the CLI adds the file name). */
export function scriptProblem(
  entry: Pick<ScriptEntry, 'index' | 'line'>,
  field: string,
  message: string,
): ScriptProblem {
  return { ...(entry.line === undefined ? {} : { line: entry.line }), entry: entry.index, field, message };
}

/** Parses and validates a journey file's text, or throws InvalidJourneyError with every problem. */
export function loadJourney(file: string, text: string): Journey {
  const { journeys, problems } = buildCatalog([{ path: file, text }]);
  if (problems.length > 0) throw new InvalidJourneyError(problems.map(formatViolation));
  return journeys[0].journey;
}

/** This repository, whose statemachines/, segments/, offers/ and placements/ a simulation reads by default. */
export const REPOSITORY_ROOT = join(__dirname, '..', '..');

/** The engine that runs the compiled ASL on the virtual clock of the local runtime. */
export async function defaultEngine(): Promise<SimulationEngine> {
  // Loaded only when a simulation runs: the local stack pulls in the whole runtime. (`require`: the CLI runs through
  // tsx's CommonJS hook, where a dynamic import() would go to Node's ES module loader.)
  const { createLocalEngine } = require('./local-engine') as typeof import('./local-engine');
  return createLocalEngine();
}

/** What the helper answers: the report, and views of it for short assertions. */
export interface Simulation extends SimulationReport {
  /** The profile with this identity (`email:ann@example.com`) or id; throws naming the profiles there are. */
  profile(who: string): ProfileView;
  /** The report as `waymark simulate` prints it. */
  text(): string;
}

/** A profile's runs; `path`, `messages`, `suppressions` and `decisions` are those of the simulated journey's runs. */
export interface ProfileView extends ProfileReport {
  /** The nodes visited, in order (each node once per visit, its compiled states collapsed), over its runs. */
  path: string[];
  messages: ReportMessage[];
  suppressions: ReportSuppression[];
  decisions: ReportDecision[];
  /** The only run of `journeyId` (default: the simulated journey); throws when there is none or more than one. */
  run(journeyId?: string): RunReport;
}

export interface SimulateOptions {
  /** A journey file (relative to `root`, or absolute) or a definition (a parsed journey file; validated here). */
  journey: string | object;
  /** Script entries, as in a script file (statemachines/README.md#simulate-a-journey). */
  events: readonly unknown[];
  /** Starting profiles, as in a profiles file. */
  profiles?: readonly unknown[];
  /** @default the first absolute `at` of the events, else 2026-01-01T00:00:00Z */
  start?: Date | string;
  /** Let time run at least until then: "+<duration>" after the start, an ISO-8601 UTC time or a Date. */
  until?: Date | string;
  /** @default this repository */
  root?: string;
  /** @default the local runtime on a virtual clock */
  engine?: SimulationEngine;
  /** The governance rules the send step applies. @default `root`'s rules/ (`[]`: none) */
  rules?: readonly Rule[];
}

function view(report: SimulationReport, profile: ProfileReport): ProfileView {
  const own = profile.runs.filter((r) => r.journeyId === report.journeyId);
  return {
    ...profile,
    path: own.flatMap((r) => nodeVisits(r.path).map((v) => v.node)),
    messages: own.flatMap((r) => r.messages),
    suppressions: own.flatMap((r) => r.suppressions),
    decisions: own.flatMap((r) => r.decisions),
    run(journeyId = report.journeyId) {
      const runs = profile.runs.filter((r) => r.journeyId === journeyId);
      if (runs.length !== 1) {
        throw new Error(`profile ${profile.profileId} has ${runs.length} runs of ${journeyId}, not one`);
      }
      return runs[0];
    },
  };
}

/** Wraps a report with the helper's views. */
export function withViews(report: SimulationReport): Simulation {
  return {
    ...report,
    profile(who) {
      const colon = who.indexOf(':');
      const [namespace, value] = colon > 0 ? [who.slice(0, colon), who.slice(colon + 1)] : [undefined, undefined];
      const holds = (p: ProfileReport) =>
        namespace !== undefined && Object.hasOwn(p.identities, namespace) && p.identities[namespace] === value;
      const found = report.profiles.find((p) => p.profileId === who || holds(p));
      if (!found) {
        const first = (p: ProfileReport) => Object.entries(p.identities).map(([n, v]) => `${n}:${v}`)[0] ?? p.profileId;
        const known = report.profiles.map(first);
        throw new Error(`no profile ${who} in the simulation (profiles: ${known.join(', ') || 'none'})`);
      }
      return view(report, found);
    },
    text: () => renderText(report),
  };
}

/**
 * Simulates a journey against script entries, for a jest test:
 * `const sim = await simulate({ journey: 'statemachines/cart-abandonment.json', events: [...] });`
 * `expect(sim.profile('email:ann@example.com').path).toEqual([...])`. Throws InvalidJourneyError or ScriptError
 * (naming `events[i].field`) for invalid input.
 */
export async function simulate(options: SimulateOptions): Promise<Simulation> {
  const root = options.root ?? REPOSITORY_ROOT;
  let journeyFile: string;
  let journey: Journey;
  if (typeof options.journey === 'string') {
    journeyFile = options.journey;
    const path = isAbsolute(journeyFile) ? journeyFile : join(root, journeyFile);
    journey = loadJourney(journeyFile, await readFile(path, 'utf8'));
  } else {
    const checked = validateJourney(options.journey);
    if (!checked.ok) throw new InvalidJourneyError(checked.violations.map((v) => formatViolation(v)));
    journey = checked.journey;
    journeyFile = `${journey.id}.json`;
  }
  const start = typeof options.start === 'string' ? parseStart(options.start) : options.start;
  const script = readScript(options.events, start === undefined ? {} : { start });
  const profiles = readProfiles(options.profiles ?? [], { file: 'profiles' });
  const until = typeof options.until === 'string' ? parseUntil(options.until, script.start) : options.until;
  const engine = options.engine ?? (await defaultEngine());
  const rules = options.rules === undefined ? {} : { rules: options.rules };
  const input = { journeyFile, journey, root, script: script.entries, profiles, start: script.start, ...rules };
  const report = await engine.run(until === undefined ? input : { ...input, until });
  return withViews(report);
}
