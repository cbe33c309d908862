import type * as z from 'zod';
import { MAX_WAIT_SECONDS, parseDuration } from '../shared/duration';
import { assertNever } from '../shared/assert-never';
import { RUN_DATA_LIMITS } from '../runtime/execution-data';
import { checkTemplate } from '../templates/liquid';
import { conditionPaths } from './condition';
import { goalConditionProblems } from '../measure/conversions';
import {
  ConditionNode,
  DecideNode,
  ExitNode,
  Journey,
  JourneyNode,
  NODE_KINDS,
  SendNode,
  SplitNode,
  WaitForEventNode,
  WaitNode,
} from './schema';
import { STATE_SUFFIXES, successors } from './graph';

export interface Violation {
  /** The offending node, when there is one. */
  nodeId?: string;
  /** Where in the file: `nodes[3].template.subject`, `settings.timeout`. */
  path: string;
  message: string;
}

export type ValidationResult = { ok: true; journey: Journey } | { ok: false; violations: Violation[] };

export const LIMITS = {
  maxNodes: 50,
  maxWaitSeconds: MAX_WAIT_SECONDS,
  /** Standard workflows run for at most a year. */
  maxTimeoutSeconds: 365 * 86400,
  maxStateNameLength: 80,
} as const;

const NODE_SCHEMAS: Record<(typeof NODE_KINDS)[number], z.ZodType<JourneyNode>> = {
  wait: WaitNode,
  'wait-for-event': WaitForEventNode,
  condition: ConditionNode,
  send: SendNode,
  decide: DecideNode,
  split: SplitNode,
  exit: ExitNode,
};

function issuePath(prefix: string, path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : `${acc}.${String(key)}`), prefix);
}

/** Parses and checks a journey definition: schema first, then the graph. Never throws for bad input. */
export function validateJourney(input: unknown): ValidationResult {
  const parsed = parseJourney(input);
  if (!parsed.ok) return parsed;
  const graphViolations = checkJourney(parsed.journey);
  return graphViolations.length > 0 ? { ok: false, violations: graphViolations } : parsed;
}

/**
 * The schema part of `validateJourney` only (no graph, limits or templates): for definitions checked in full when they
 * were written (registry items, put by CDK after synth validated them). Without the template checks a Lambda reading
 * the registry does not bundle liquidjs (~87 KB) nor parse every template on each registry read.
 */
export function parseJourney(input: unknown): ValidationResult {
  const top = Journey.safeParse(input);
  if (!top.success) {
    return { ok: false, violations: top.error.issues.map((i) => ({ path: issuePath('', i.path).replace(/^\./, '') || '(root)', message: i.message })) };
  }
  const violations: Violation[] = [];
  const nodes: JourneyNode[] = [];
  top.data.nodes.forEach((raw, index) => {
    const at = `nodes[${index}]`;
    const candidate = raw as { id?: unknown; kind?: unknown } | null;
    const nodeId = candidate && typeof candidate.id === 'string' ? candidate.id : undefined;
    const kind = candidate && typeof candidate === 'object' ? candidate.kind : undefined;
    if (typeof kind !== 'string' || !(kind in NODE_SCHEMAS)) {
      violations.push({ nodeId, path: `${at}.kind`, message: `kind must be one of ${NODE_KINDS.join(', ')} (got ${JSON.stringify(kind)})` });
      return;
    }
    const parsed = NODE_SCHEMAS[kind as keyof typeof NODE_SCHEMAS].safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) violations.push({ nodeId, path: issuePath(at, issue.path), message: issue.message });
      return;
    }
    nodes.push(parsed.data);
  });
  if (violations.length > 0) return { ok: false, violations };
  return { ok: true, journey: { ...top.data, nodes } };
}

/** Checks a schema-valid journey's graph, limits and templates; a pure function returning every violation found. */
export function checkJourney(journey: Journey): Violation[] {
  const violations: Violation[] = [];
  const indexOf = new Map<string, number>();
  const at = (id: string) => `nodes[${indexOf.get(id) ?? '?'}]`;

  if (journey.nodes.length > LIMITS.maxNodes) {
    violations.push({ path: 'nodes', message: `a journey has at most ${LIMITS.maxNodes} nodes (found ${journey.nodes.length})` });
  }
  journey.nodes.forEach((node, i) => {
    if (indexOf.has(node.id)) violations.push({ nodeId: node.id, path: `nodes[${i}].id`, message: `duplicate node id "${node.id}" (first used by nodes[${indexOf.get(node.id)}])` });
    else indexOf.set(node.id, i);
  });
  const byId = new Map(journey.nodes.map((n) => [n.id, n] as const));

  if (!byId.has(journey.start)) violations.push({ path: 'start', message: `start refers to unknown node "${journey.start}"` });
  for (const node of journey.nodes) {
    for (const { field, target } of successors(node)) {
      if (!byId.has(target)) violations.push({ nodeId: node.id, path: `${at(node.id)}.${field}`, message: `node "${node.id}" refers to unknown node "${target}"` });
    }
    const longest = Math.max(0, ...STATE_SUFFIXES[node.kind].map((s) => s.length));
    if (node.id.length + longest > LIMITS.maxStateNameLength) {
      violations.push({ nodeId: node.id, path: `${at(node.id)}.id`, message: `node id "${node.id}" makes state names longer than ${LIMITS.maxStateNameLength} characters` });
    }
    violations.push(...checkNode(node, at(node.id), journey));
  }
  violations.push(...checkSettings(journey));
  violations.push(...checkPlaceholders(journey));
  violations.push(...checkRunData(journey));
  if (violations.some((v) => v.message.includes('unknown node'))) return violations;

  // Reachability and cycles: a depth-first walk from start, colouring nodes.
  const state = new Map<string, 'visiting' | 'done'>();
  const walk = (id: string, trail: string[]): void => {
    state.set(id, 'visiting');
    for (const { target } of successors(byId.get(id)!)) {
      const s = state.get(target);
      if (s === 'visiting') {
        const loop = [...trail, id];
        const cycle = [...loop.slice(loop.indexOf(target)), target].join(' -> ');
        violations.push({ nodeId: id, path: at(id), message: `cycle: ${cycle} (loops are not allowed; end the path with exit)` });
      } else if (s === undefined) {
        walk(target, [...trail, id]);
      }
    }
    state.set(id, 'done');
  };
  walk(journey.start, []);
  for (const node of journey.nodes) {
    if (!state.has(node.id)) violations.push({ nodeId: node.id, path: `${at(node.id)}`, message: `node "${node.id}" is not reachable from start "${journey.start}"` });
  }
  return violations;
}

function checkWaitLength(seconds: number, nodeId: string, path: string, what: string): Violation[] {
  if (seconds > LIMITS.maxWaitSeconds) return [{ nodeId, path, message: `${what} is at most 90 days (got ${Math.round(seconds / 86400)} days)` }];
  if (seconds < 1) return [{ nodeId, path, message: `${what} must be at least 1 second` }];
  return [];
}

function checkNode(node: JourneyNode, at: string, journey: Journey): Violation[] {
  switch (node.kind) {
    case 'wait': {
      const out: Violation[] = [];
      if (node.duration !== undefined) out.push(...checkWaitLength(parseDuration(node.duration), node.id, `${at}.duration`, 'a wait'));
      if (node.offset !== undefined && parseDuration(node.offset.replace(/^-/, '')) > LIMITS.maxWaitSeconds) {
        out.push({ nodeId: node.id, path: `${at}.offset`, message: 'an offset is at most 90 days' });
      }
      if (node.until?.startsWith('steps.')) out.push({ nodeId: node.id, path: `${at}.until`, message: 'until reads a timestamp from event, profile or context' });
      return out;
    }
    case 'wait-for-event': {
      const out = checkWaitLength(parseDuration(node.timeout), node.id, `${at}.timeout`, 'a wait-for-event timeout');
      if (journey.entry.kind === 'api' && node.correlate?.equals.startsWith('event.')) {
        out.push({ nodeId: node.id, path: `${at}.correlate.equals`, message: 'an API-triggered journey has no entry event; correlate on context.* instead' });
      }
      return out;
    }
    case 'condition':
      return [];
    case 'send': {
      const out: Violation[] = [];
      for (const [field, text] of Object.entries(node.template)) {
        if (typeof text !== 'string') continue;
        const kind = field === 'html' ? 'html' : field === 'subject' || field === 'url' ? 'line' : 'text';
        for (const message of checkTemplate(text, kind)) out.push({ nodeId: node.id, path: `${at}.template.${field}`, message });
      }
      return out;
    }
    case 'decide': {
      const out: Violation[] = [];
      for (const [name, path] of Object.entries(node.context ?? {})) {
        if (journey.entry.kind === 'api' && path.startsWith('event.')) out.push({ nodeId: node.id, path: `${at}.context.${name}`, message: 'an API-triggered journey has no entry event; read context.* instead' });
      }
      return out;
    }
    case 'split':
      return checkSplit(node, at);
    case 'exit':
      return [];
    default:
      return assertNever(node, 'node');
  }
}

/** Weights sum to 100, variant ids are unique, and there are two arms at least (two variants, or one and the holdout). */
function checkSplit(node: SplitNode, at: string): Violation[] {
  const out: Violation[] = [];
  const total = node.variants.reduce((sum, v) => sum + v.weight, 0) + (node.holdout?.weight ?? 0);
  if (total !== 100) {
    const parts = [...node.variants.map((v) => `${v.id} ${v.weight}`), ...(node.holdout ? [`holdout ${node.holdout.weight}`] : [])];
    out.push({ nodeId: node.id, path: `${at}.variants`, message: `split weights must sum to 100 (got ${total}: ${parts.join(' + ')})` });
  }
  const seen = new Map<string, number>();
  node.variants.forEach((v, i) => {
    if (v.id === 'holdout') out.push({ nodeId: node.id, path: `${at}.variants[${i}].id`, message: 'the variant id "holdout" is reserved for the split\'s holdout' });
    if (seen.has(v.id)) out.push({ nodeId: node.id, path: `${at}.variants[${i}].id`, message: `duplicate variant id "${v.id}" (first used by variants[${seen.get(v.id)}])` });
    else seen.set(v.id, i);
  });
  if (node.variants.length + (node.holdout ? 1 : 0) < 2) {
    out.push({ nodeId: node.id, path: `${at}.variants`, message: 'a split needs two variants, or one variant and a holdout' });
  }
  return out;
}

// `${Name}` in the compiled definition is a deployment placeholder (CDK definitionSubstitutions, local bindings);
// the journey's own text ends up in the definition too, so it must not contain one.
const PLACEHOLDER = /\$\{\w+\}/;

function checkPlaceholders(journey: Journey): Violation[] {
  const out: Violation[] = [];
  const walk = (value: unknown, path: string, nodeId: string | undefined): void => {
    if (typeof value === 'string') {
      if (PLACEHOLDER.test(value)) out.push({ nodeId, path, message: `"${value.match(PLACEHOLDER)![0]}" is reserved for deployment placeholders; write the $ apart from the {` });
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => walk(item, `${path}[${i}]`, nodeId));
    } else if (value && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) walk(child, path ? `${path}.${key}` : key, nodeId);
    }
  };
  const { nodes, ...envelope } = journey;
  walk(envelope, '', undefined);
  nodes.forEach((node, i) => walk(node, `nodes[${i}]`, node.id));
  return out;
}

/**
 * The most data a run of this journey can hold at once (bytes): the start input, the one rendered message in flight,
 * each wait-for-event's event and each decision (they accumulate: no cycles, so each node runs once), and the largest
 * profile a condition reloads (each reload replaces the last). Budgets are in runtime/execution-data.ts.
 */
export function runDataBudget(journey: Journey): number {
  const L = RUN_DATA_LIMITS;
  let total = L.maxInputBytes;
  let profile = 0;
  if (journey.nodes.some((n) => n.kind === 'send')) total += L.maxMessageBytes;
  for (const node of journey.nodes) {
    if (node.kind === 'wait-for-event') total += L.maxResumedEventBytes + 256;
    else if (node.kind === 'decide') total += ((node.count ?? 1) + 1) * (L.maxOfferContentBytes + 1024);
    else if (node.kind === 'condition') {
      const reads = node.branches.flatMap((b) => conditionPaths(b.when)).filter((p) => p.startsWith('profile.'));
      profile = Math.max(profile, new Set(reads).size * (L.maxProfileValueBytes + 128));
    } else total += 128;
  }
  return total + profile;
}

const NOT_IN_RUN = /^event\.(identities|attributes|consent)(\.|$)/;

/** Paths a run reads that its data no longer carries: the entry event's identities, attributes and consent. */
function runPaths(node: JourneyNode): { path: string; field: string }[] {
  switch (node.kind) {
    case 'condition':
      return node.branches.flatMap((b, i) => conditionPaths(b.when).map((path) => ({ path, field: `branches[${i}].when` })));
    case 'wait-for-event':
      return node.correlate ? [{ path: node.correlate.equals, field: 'correlate.equals' }] : [];
    case 'wait':
      return node.until ? [{ path: node.until, field: 'until' }] : [];
    case 'decide':
      return Object.entries(node.context ?? {}).map(([name, path]) => ({ path, field: `context.${name}` }));
    default:
      return [];
  }
}

function checkRunData(journey: Journey): Violation[] {
  const out: Violation[] = [];
  journey.nodes.forEach((node, i) => {
    for (const { path, field } of runPaths(node)) {
      if (!NOT_IN_RUN.test(path)) continue;
      const message = `"${path}": a run carries the entry event without identities, attributes or consent; read profile.* instead`;
      out.push({ nodeId: node.id, path: `nodes[${i}].${field}`, message });
    }
  });
  const bytes = runDataBudget(journey);
  if (bytes > RUN_DATA_LIMITS.maxStateBytes) {
    const message = `a run of this journey can hold up to ${Math.ceil(bytes / 1024)} KB of data, over Step Functions' 256 KB: use fewer wait-for-event or decide nodes, or split the journey`;
    out.push({ path: 'nodes', message });
  }
  return out;
}

function checkSettings(journey: Journey): Violation[] {
  const out: Violation[] = [];
  const timeout = parseDuration(journey.settings.timeout);
  if (timeout > LIMITS.maxTimeoutSeconds) out.push({ path: 'settings.timeout', message: 'the global timeout is at most 365 days (a Standard workflow runs at most a year)' });
  // A conversion window outlives the run (an order after the last email counts), bounded like a run.
  if (journey.goal) {
    const within = parseDuration(journey.goal.within);
    if (within > LIMITS.maxTimeoutSeconds) out.push({ path: 'goal.within', message: 'a goal window is at most 365 days' });
    if (within < 1) out.push({ path: 'goal.within', message: 'a goal window is at least 1 second' });
    for (const message of goalConditionProblems(journey.goal)) out.push({ path: 'goal.condition', message });
  }
  if (journey.entry.kind === 'event' && journey.entry.condition) {
    for (const path of conditionPaths(journey.entry.condition)) {
      if (!path.startsWith('event.') && !path.startsWith('profile.')) {
        out.push({ path: 'entry.condition', message: `an entry condition reads event.* or profile.* (got "${path}")` });
      }
    }
  }
  // Exit criteria stop the profile's latest run, which is tracked for every re-entrance policy except `always`.
  if (journey.exitCriteria !== undefined && journey.settings.reentry === 'always') {
    out.push({ path: 'exitCriteria', message: 'exit criteria need one run per profile at a time: use a re-entrance policy other than "always"' });
  }
  // Exclusive groups are arbitrated on the same latest run: a journey with parallel runs would go unseen.
  if (journey.settings.exclusive !== undefined && journey.settings.reentry === 'always') {
    out.push({ path: 'settings.exclusive', message: 'exclusive groups need one run per profile at a time: use a re-entrance policy other than "always"' });
  }
  return out;
}
