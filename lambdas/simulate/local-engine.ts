/**
 * The simulation engine: the local stack (lambdas/local) on a VirtualClock, with no HTTP server. The journey's
 * compiled ASL runs for real; each script entry goes in the way it would in production (the bus, or the REST API's
 * handlers in process) at its virtual time, the stack settles, and after the last one time runs until every run has
 * ended. The report is read back from what the stack recorded: runs and their trails, the outbox, the send ledger and
 * the decision log (the profile export).
 */
import { join } from 'node:path';
import { buildCatalog, formatViolation, type CompiledJourney } from '../core/journey/catalog';
import { journeyReferences, unknownReferences } from '../core/journey/references';
import type { Journey } from '../core/journey/schema';
import type { DecisionRecord } from '../core/decisions/ports';
import type { LedgerEntry } from '../core/runtime/ports';
import { ruleDependencies } from '../core/segments/dependencies';
import type { Rule } from '../core/segments/rule';
import type { ApiResult } from '../shared/http';
import type { LocalExecution } from '../local/executions';
import { loadCatalogDirs, loadJourneyDir, loadRuleDir, loadSegmentDir, startLocalStack, type LocalStack } from '../local/stack';
import { VirtualClock } from '../local/virtual-clock';
import { InvalidJourneyError, scriptProblem, type SimulationEngine, type SimulationInput } from './engine';
import { nodeOfState, type ProfileReport, type ReportDecision, type RunReport, type SimulationReport } from './report';
import { ScriptError, type ScriptEntry } from './script';

/** AWS's schedule of the segment re-check (hourly), in virtual time: only when a journey reads a time-based segment. */
const RECHECK_INTERVAL_MS = 3_600_000;

const CATALOG_ERRORS = new Set(['JourneyCatalogError', 'SegmentCatalogError', 'DecisionCatalogError', 'RuleSetError']);

/** Loads a definition folder; its problems are the input's (InvalidJourneyError), not the engine's. */
function load<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof Error && CATALOG_ERRORS.has(error.name)) {
      throw new InvalidJourneyError(error.message.split('\n').map((l) => l.trim()).filter(Boolean));
    }
    throw error;
  }
}

/** The simulated journey, and the journeys of the repository the script triggers (each by id, once). */
function journeysFor(input: SimulationInput): CompiledJourney[] {
  const { journeys, problems } = buildCatalog([{ path: input.journeyFile, text: JSON.stringify(input.journey) }]);
  if (problems.length > 0) throw new InvalidJourneyError(problems.map(formatViolation));
  const other = (e: ScriptEntry) => e.kind === 'trigger' && e.journeyId !== input.journey.id;
  const triggered = input.script.flatMap((e) => (e.kind === 'trigger' && other(e) ? [e.journeyId] : []));
  const wanted = new Set(triggered);
  if (wanted.size === 0) return journeys;
  const others = load(() => loadJourneyDir(join(input.root, 'statemachines'))).filter((j) => wanted.has(j.journey.id));
  return [...journeys, ...others];
}

const body = <T>(result: ApiResult): T => JSON.parse(result.body) as T;
const ok = (result: ApiResult) => result.statusCode >= 200 && result.statusCode < 300;

/** What the API answered when it refused an entry: its detail and the fields it named. */
function refusal(result: ApiResult): string {
  const problem = body<{ detail?: string; errors?: { field: string; message: string }[] }>(result);
  const fields = (problem.errors ?? []).map((e) => `${e.field}: ${e.message}`);
  return [problem.detail ?? `HTTP ${result.statusCode}`, ...fields].join('; ');
}

class Run {
  constructor(
    private readonly stack: LocalStack,
    private readonly clock: VirtualClock,
  ) {}

  private request(method: string, path: string, payload?: unknown, query?: Record<string, string>) {
    return this.stack.request({
      method,
      path,
      ...(query ? { query } : {}),
      ...(payload === undefined
        ? {}
        : { body: JSON.stringify(payload), headers: { 'content-type': 'application/json' } }),
    });
  }

  /** The profile holding any of these identities (following merges), if there is one. */
  async find(identities: Record<string, string>): Promise<string | undefined> {
    for (const [namespace, value] of Object.entries(identities)) {
      const found = await this.request('GET', '/profiles', undefined, { identity: `${namespace}:${value}` });
      if (ok(found)) return body<{ id: string }>(found).id;
    }
    return undefined;
  }

  private async profileFor(entry: ScriptEntry & { identities: Record<string, string> }): Promise<string> {
    const id = await this.find(entry.identities);
    if (id !== undefined) return id;
    const named = Object.entries(entry.identities).map(([n, v]) => `${n}:${v}`).join(', ');
    const message = `no profile has the identity ${named} yet (an event or a starting profile creates it)`;
    throw new ScriptError(undefined, [scriptProblem(entry, '', message)]);
  }

  private async expect(entry: ScriptEntry, result: Promise<ApiResult>, field: string): Promise<void> {
    const answer = await result;
    if (!ok(answer)) throw new ScriptError(undefined, [scriptProblem(entry, field, refusal(answer))]);
  }

  /** Applies one entry at the clock's time, as its API or the bus would take it. */
  async apply(entry: ScriptEntry): Promise<void> {
    switch (entry.kind) {
      case 'event':
        await this.stack.bus.publish([entry.event]);
        return;
      case 'attributes': {
        const id = await this.profileFor(entry);
        const path = `/profiles/${encodeURIComponent(id)}/attributes`;
        const update = { attributes: entry.attributes, source: entry.source };
        return this.expect(entry, this.request('PUT', path, update), 'setAttributes');
      }
      case 'consent': {
        const id = await this.profileFor(entry);
        const path = `/profiles/${encodeURIComponent(id)}/consent`;
        return this.expect(entry, this.request('PUT', path, entry.consent), 'setConsent');
      }
      case 'trigger': {
        // A fixed key: the run's name (and so the report) is the same every time.
        const idempotencyKey = entry.idempotencyKey ?? `trigger-${entry.index + 1}`;
        const path = `/journeys/${encodeURIComponent(entry.journeyId)}/trigger`;
        const request = { identities: entry.identities, context: entry.context, idempotencyKey };
        return this.expect(entry, this.request('POST', path, request), 'trigger');
      }
    }
  }

  /** A starting profile: imported at the start (no journey, no segment sees it); its consent as the API sets it. */
  async seed(profile: SimulationInput['profiles'][number], at: string): Promise<void> {
    const { profile: created } = await this.stack.profiles.ingest({
      id: `start-profile-${profile.index + 1}`,
      type: 'profile.imported',
      source: 'simulation',
      time: at,
      identities: profile.identities,
      attributes: profile.attributes,
      properties: {},
    });
    if (profile.consent) {
      const answer = await this.request('PUT', `/profiles/${encodeURIComponent(created.id)}/consent`, profile.consent);
      if (!ok(answer)) {
        throw new Error(`the starting consent of profile ${profile.index + 1} was refused: ${refusal(answer)}`);
      }
    }
  }

  private runReport(execution: LocalExecution, ledger: LedgerEntry[], decisions: DecisionRecord[]): RunReport {
    const ids = new Set([execution.executionArn, execution.name]);
    const stoppedAt = execution.stopDate ?? this.clock.now().toISOString();
    const own = (origin: string) => origin.startsWith(`journey:${execution.journeyId}:`);
    return {
      journeyId: execution.journeyId,
      executionId: execution.name,
      status: execution.status,
      startedAt: execution.startDate,
      path: execution.trail.map((step) => ({ node: nodeOfState(step.state), state: step.state, at: step.at })),
      messages: this.stack.outbox
        .list()
        .filter((m) => m.executionId === execution.executionArn)
        .map((m) => ({
          at: m.time,
          node: m.nodeId,
          channel: m.channel,
          recipient: m.recipient,
          ...(m.subject === undefined ? {} : { subject: m.subject }),
          body: m.body,
          ...(m.html === undefined ? {} : { html: m.html }),
          ...(m.url === undefined ? {} : { url: m.url }),
        })),
      suppressions: ledger
        .filter((l) => ids.has(l.executionId) && l.status === 'suppressed')
        .map((l) => ({ at: l.preparedAt, node: l.nodeId, channel: l.channel, reason: l.reason ?? 'suppressed' }))
        // In time order (the ledger's own order is by key).
        .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0)),
      // The log has no execution id: a run's decisions are its journey's made while it ran.
      decisions: decisions
        .filter((d) => own(d.origin) && d.at >= execution.startDate && d.at <= stoppedAt)
        .flatMap((d) =>
          Object.entries(d.placements).map(([placement, decision]): ReportDecision => ({
            at: d.at,
            node: d.origin.slice(`journey:${execution.journeyId}:`.length),
            placement,
            offers: decision.offers,
            fallback: decision.fallback,
            explanation: decision.explanation,
          })),
        ),
      ended:
        execution.status === 'RUNNING'
          ? null
          : { status: execution.status, at: stoppedAt, ...(execution.error ? { error: execution.error } : {}) },
    };
  }

  /** Every profile the script names, in the order it first names them (profiles merged into one reported once). */
  async report(input: SimulationInput, journeyId: string): Promise<SimulationReport> {
    const named = [
      ...input.profiles.map((p) => p.identities),
      ...input.script.map((e) => (e.kind === 'event' ? e.event.identities : e.identities)),
    ];
    const ids: string[] = [];
    const asked = new Set<string>();
    for (const identities of named) {
      // One look-up per set of identities: a script names the same customer again and again.
      const key = JSON.stringify(Object.entries(identities));
      if (Object.keys(identities).length === 0 || asked.has(key)) continue;
      asked.add(key);
      const id = await this.find(identities);
      if (id !== undefined && !ids.includes(id)) ids.push(id);
    }
    const executions = this.stack.executions.list({});
    const profiles: ProfileReport[] = [];
    for (const id of ids) {
      const path = `/profiles/${encodeURIComponent(id)}`;
      const [profile, exported] = await Promise.all([this.request('GET', path), this.request('GET', `${path}/export`)]);
      type Exported = { mergedProfileIds: string[]; journeys: { messages: LedgerEntry[] }; decisions: DecisionRecord[] };
      const data = body<Exported>(exported);
      const owners = new Set([id, ...data.mergedProfileIds]);
      profiles.push({
        profileId: id,
        identities: { ...body<{ identities: Record<string, string> }>(profile).identities },
        runs: executions
          .filter((e) => owners.has(e.profileId))
          .map((e) => this.runReport(e, data.journeys.messages, data.decisions)),
      });
    }
    return { journeyId, start: input.start.toISOString(), end: this.clock.now().toISOString(), profiles };
  }
}

/** Whether any of these journeys reads a segment whose membership changes with time alone. */
function readsTimeBasedSegments(journeys: readonly Journey[], segments: readonly { id: string; rule: Rule }[]): boolean {
  const timeBased = new Set(segments.filter((s) => ruleDependencies(s.rule).timeDependent).map((s) => s.id));
  return journeys.some((j) => journeyReferences(j).some((r) => r.kind === 'segment' && timeBased.has(r.id)));
}

/** The engine of `waymark simulate` and `simulate()`: one local stack on a virtual clock per simulation. */
export function createLocalEngine(): SimulationEngine {
  return {
    async run(input) {
      const journeys = journeysFor(input);
      const segments = load(() => loadSegmentDir(join(input.root, 'segments')));
      const catalog = load(() => loadCatalogDirs(join(input.root, 'offers'), join(input.root, 'placements')));
      const unknown = unknownReferences(
        journeys.map((j) => j.journey),
        { segments: new Set(segments.map((s) => s.id)), placements: new Set(catalog.placements.map((p) => p.id)) },
      );
      if (unknown.length > 0) throw new InvalidJourneyError(unknown);
      const clock = new VirtualClock(input.start);
      const recheck = readsTimeBasedSegments(journeys.map((j) => j.journey), segments);
      const schedule = recheck ? { recheckIntervalMs: RECHECK_INTERVAL_MS } : {};
      const rules = input.rules ?? load(() => loadRuleDir(join(input.root, 'rules')));
      const stack = await startLocalStack({ listen: false, storage: 'memory', clock, journeys, segments, catalog, rules, ...schedule });
      try {
        const run = new Run(stack, clock);
        for (const profile of input.profiles) await run.seed(profile, input.start.toISOString());
        for (const entry of input.script) {
          await clock.advanceTo(entry.at);
          await run.apply(entry);
          await stack.settle();
        }
        if (input.until && input.until.getTime() > clock.nowMs()) await clock.advanceTo(input.until);
        await clock.runUntilIdle();
        return await run.report(input, input.journey.id);
      } finally {
        await stack.stop();
      }
    },
  };
}
