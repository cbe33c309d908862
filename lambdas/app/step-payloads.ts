import type { StepPayload } from '../core/journey/asl';
import type { Condition } from '../core/journey/condition';
import type { ConditionNode, DecideNode, SendNode, WaitForEventNode, WaitNode } from '../core/journey/schema';
import { dict, type Dict } from '../core/shared/records';

/*
 * The journey steps' payloads, checked by hand: the compiler wrote them (the node as the journey file was parsed at
 * synth), so each step checks the shape of what it reads, naming the field, without bundling the journey schema (zod).
 */

/** A payload the state machine could not have sent (a wrong definition, or a hand-started call). */
export class StepPayloadError extends Error {
  override readonly name = 'StepPayloadError';
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads one payload, collecting `<path>: <reason>` for each field that is not what the step reads. */
class Reader {
  readonly issues: string[] = [];
  fail(path: string, reason: string): undefined {
    this.issues.push(`${path}: ${reason}`);
    return undefined;
  }
  object(value: unknown, path: string): Json | undefined {
    return isObject(value) ? value : this.fail(path, 'expected an object');
  }
  string(value: unknown, path: string, { min = 0, max = Infinity, optional = false } = {}): string | undefined {
    if (value === undefined && optional) return undefined;
    if (typeof value !== 'string') return this.fail(path, 'expected a string');
    if (value.length < min || value.length > max) return this.fail(path, `expected ${min} to ${max} characters`);
    return value;
  }
  integer(value: unknown, path: string, min: number, max: number): number | undefined {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) return this.fail(path, `expected an integer from ${min} to ${max}`);
    return value;
  }
  /** A null-prototype copy of a record keyed by outside names (`__proto__` kept as data), each value checked. */
  record<V>(value: unknown, path: string, check: (item: unknown, at: string) => boolean = () => true): Dict<V> | undefined {
    if (!isObject(value)) return this.fail(path, 'expected an object');
    const out = dict<V>();
    for (const key of Object.keys(value)) if (check(value[key], `${path}.${key}`)) out[key] = value[key] as V;
    return out;
  }
  done<T>(value: T): T {
    if (this.issues.length > 0) throw new StepPayloadError(`invalid step payload: ${this.issues.slice(0, 5).join('; ')}`);
    return value;
  }
}

/** The execution document every step receives (`state`); its records copied null-prototype. */
function state(r: Reader, raw: unknown): StepPayload['state'] | undefined {
  const s = r.object(raw, 'state');
  if (!s) return undefined;
  const journey = r.object(s.journey, 'state.journey');
  if (journey) {
    r.string(journey.id, 'state.journey.id');
    r.string(journey.version, 'state.journey.version');
  }
  r.string(s.profileId, 'state.profileId');
  const p = r.object(s.profile, 'state.profile');
  const isString = (item: unknown, at: string) => typeof item === 'string' || (r.fail(at, 'expected a string') ?? false);
  // Only these fields of the profile (the others are dropped, as the schema did).
  const profile = p && {
    id: r.string(p.id, 'state.profile.id'),
    attributes: r.record(p.attributes, 'state.profile.attributes'),
    identities: r.record<string>(p.identities, 'state.profile.identities', isString),
    ...(p.segments === undefined ? {} : { segments: r.record<string>(p.segments, 'state.profile.segments', isString) }),
  };
  return { ...s, profile, context: r.record(s.context, 'state.context'), steps: r.record(s.steps, 'state.steps') } as StepPayload['state'];
}

/** `{ executionId, state, node }` with the node's id and kind checked, then `node` checks what the step reads of it. */
function payload<N>(raw: unknown, kind: string, node: (r: Reader, n: Json) => void, extra?: (r: Reader, p: Json) => void): StepPayload<N> & Json {
  const r = new Reader();
  const p = r.object(raw, '(payload)') ?? {};
  r.string(p.executionId, 'executionId', { min: 1 });
  const checkedState = state(r, p.state);
  const n = r.object(p.node, 'node');
  if (n) {
    r.string(n.id, 'node.id', { min: 1, max: 64 });
    if (n.kind !== kind) r.fail('node.kind', `expected "${kind}"`);
    node(r, n);
  }
  extra?.(r, p);
  return r.done({ ...p, state: checkedState, node: n } as StepPayload<N> & Json);
}

const TEMPLATE_FIELDS = { email: ['subject', 'text'], sms: ['body'], push: ['title', 'body'] } as const;

export function prepareSendPayload(raw: unknown) {
  return payload<SendNode>(raw, 'send', (r, n) => {
    const channel = n.channel as keyof typeof TEMPLATE_FIELDS;
    if (!Object.hasOwn(TEMPLATE_FIELDS, channel)) return void r.fail('node.channel', 'expected email, sms or push');
    const template = r.object(n.template, 'node.template');
    for (const field of template ? TEMPLATE_FIELDS[channel] : []) r.string(template![field], `node.template.${field}`, { min: 1 });
    for (const field of ['html', 'url']) if (template) r.string(template[field], `node.template.${field}`, { optional: true });
    r.string(n.list, 'node.list', { optional: true, min: 1, max: 64 });
  }, sendFields) as unknown as StepPayload<SendNode> & { messageClass: 'marketing' | 'transactional'; startedAt?: string; settings?: { priority?: number; tags?: string[] } };
}

/** The send step's own fields: `messageClass`, `startedAt`, the journey's governance `settings` (priority, tags). */
function sendFields(r: Reader, p: Json): void {
  if (p.messageClass !== 'marketing' && p.messageClass !== 'transactional') r.fail('messageClass', 'expected marketing or transactional');
  r.string(p.startedAt, 'startedAt', { optional: true, max: 64 });
  if (p.settings !== undefined) {
    const settings = r.object(p.settings, 'settings');
    if (settings?.priority !== undefined) r.integer(settings.priority, 'settings.priority', 1, 100);
    if (settings?.tags !== undefined) {
      if (!Array.isArray(settings.tags) || settings.tags.length > 10) r.fail('settings.tags', 'expected at most 10 tags');
      else settings.tags.forEach((tag, i) => r.string(tag, `settings.tags.${i}`, { max: 64 }));
    }
  }
}

/** The failed path of a delivery: give the message's cap slot back (ids only). */
export function releaseSendPayload(raw: unknown): { release: true; executionId: string; profileId: string; nodeId: string } {
  const r = new Reader();
  const p = r.object(raw, '(payload)') ?? {};
  if (p.release !== true) r.fail('release', 'expected true');
  const executionId = r.string(p.executionId, 'executionId', { min: 1, max: 2048 });
  const profileId = r.string(p.profileId, 'profileId', { min: 1, max: 1024 });
  const nodeId = r.string(p.nodeId, 'nodeId', { min: 1, max: 128 });
  return r.done({ release: true, executionId: executionId!, profileId: profileId!, nodeId: nodeId! });
}

export function registerWaitPayload(raw: unknown) {
  return payload<WaitForEventNode>(raw, 'wait-for-event', (r, n) => {
    if (!Array.isArray(n.events) || n.events.length < 1 || n.events.length > 5) r.fail('node.events', 'expected 1 to 5 event types');
    else n.events.forEach((type, i) => r.string(type, `node.events.${i}`, { min: 1, max: 128 }));
    r.string(n.timeout, 'node.timeout', { min: 1 });
    if (n.correlate !== undefined) {
      const correlate = r.object(n.correlate, 'node.correlate');
      if (correlate) {
        r.string(correlate.property, 'node.correlate.property', { min: 1, max: 64 });
        r.string(correlate.equals, 'node.correlate.equals', { min: 1 });
      }
    }
  }, (r, p) => r.string(p.token, 'token', { min: 1 })) as StepPayload<WaitForEventNode> & { token: string };
}

export function resolveWaitPayload(raw: unknown) {
  return payload<WaitNode>(raw, 'wait', (r, n) => {
    // Only until-waits call this step: a duration wait is an ASL Wait state.
    r.string(n.until, 'node.until', { min: 1 });
    r.string(n.offset, 'node.offset', { optional: true });
    r.string(n.atLocalTime, 'node.atLocalTime', { optional: true });
  });
}

/** A condition's shape, as `conditionPaths` walks it (bounded depth, as the schema's 20 × nesting). */
function condition(r: Reader, value: unknown, path: string, depth = 0): void {
  const c = r.object(value, path);
  if (!c) return;
  if (depth > 32) return void r.fail(path, 'nested too deep');
  for (const op of ['all', 'any'] as const) {
    if (op in c) {
      if (!Array.isArray(c[op]) || c[op].length === 0) return void r.fail(`${path}.${op}`, 'expected a non-empty list');
      return (c[op] as unknown[]).forEach((item, i) => condition(r, item, `${path}.${op}.${i}`, depth + 1));
    }
  }
  if ('not' in c) return condition(r, c.not, `${path}.not`, depth + 1);
  if ('segment' in c) return void r.string(c.segment, `${path}.segment`, { min: 1 });
  r.string(c.path, `${path}.path`, { min: 1 });
}

export function loadProfilePayload(raw: unknown) {
  return payload<ConditionNode>(raw, 'condition', (r, n) => {
    if (!Array.isArray(n.branches) || n.branches.length === 0) return void r.fail('node.branches', 'expected a non-empty list');
    n.branches.forEach((branch, i) => {
      const b = r.object(branch, `node.branches.${i}`);
      if (b) condition(r, b.when, `node.branches.${i}.when`);
    });
  }) as StepPayload<ConditionNode & { branches: { when: Condition }[] }>;
}

export function decidePayload(raw: unknown) {
  const p = payload<DecideNode>(raw, 'decide', (r, n) => {
    r.string(n.placement, 'node.placement', { min: 1, max: 64 });
    if (n.count !== undefined) r.integer(n.count, 'node.count', 1, 5);
    if (n.context !== undefined) r.record<string>(n.context, 'node.context', (path, at) => r.string(path, at, { min: 1 }) !== undefined);
  });
  // The schema's default (the compiled node carries it; a node written before it did gets it here).
  return { ...p, node: { ...p.node, count: p.node.count ?? 1 } };
}
