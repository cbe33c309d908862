/**
 * EventBridge event patterns, the subset Waymark's rules use: exact values, `prefix`, `suffix`, `anything-but`
 * (values or prefix), `exists` and `numeric` ranges, nested objects. The CDK rules and the local bus use the same
 * pattern objects, so the local stack routes what AWS would route.
 */
export type EventPattern = { [field: string]: EventPattern | readonly PatternValue[] };
export type PatternValue =
  | string
  | number
  | boolean
  | null
  | { prefix: string }
  | { suffix: string }
  | { 'anything-but': string | number | readonly (string | number)[] | { prefix: string } }
  | { exists: boolean }
  | { numeric: readonly (string | number)[] };

/** The route-event rule: every event not emitted by the platform itself. */
export const ROUTER_EVENT_PATTERN: EventPattern = { source: [{ 'anything-but': { prefix: 'waymark.' } }] };

function matchesNumeric(value: unknown, spec: readonly (string | number)[]): boolean {
  if (typeof value !== 'number') return false;
  for (let i = 0; i < spec.length; i += 2) {
    const op = spec[i] as string;
    const bound = spec[i + 1] as number;
    const ok = op === '>' ? value > bound : op === '>=' ? value >= bound : op === '<' ? value < bound : op === '<=' ? value <= bound : op === '=' ? value === bound : false;
    if (!ok) return false;
  }
  return true;
}

function matchesValue(value: unknown, spec: PatternValue): boolean {
  if (spec === null || typeof spec !== 'object') return value === spec;
  if ('prefix' in spec) return typeof value === 'string' && value.startsWith(spec.prefix);
  if ('suffix' in spec) return typeof value === 'string' && value.endsWith(spec.suffix);
  if ('exists' in spec) return spec.exists ? value !== undefined : value === undefined;
  if ('numeric' in spec) return matchesNumeric(value, spec.numeric);
  const but = spec['anything-but'];
  if (value === undefined) return false;
  if (Array.isArray(but)) return !but.includes(value as string | number);
  if (typeof but === 'object' && but !== null) return !(typeof value === 'string' && value.startsWith((but as { prefix: string }).prefix));
  return value !== but;
}

function matchesField(value: unknown, specs: readonly PatternValue[]): boolean {
  // An array value matches when any element matches (EventBridge semantics).
  const values = Array.isArray(value) ? value : [value];
  return specs.some((spec) => values.some((v) => matchesValue(v, spec)) || (value === undefined && typeof spec === 'object' && spec !== null && 'exists' in spec && !spec.exists));
}

export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  if (event === null || typeof event !== 'object') return false;
  const record = event as Record<string, unknown>;
  return Object.entries(pattern).every(([field, spec]) => {
    // Own fields only: an event without `constructor` does not have `Object` there.
    const value = Object.hasOwn(record, field) ? record[field] : undefined;
    if (Array.isArray(spec)) return matchesField(value, spec as readonly PatternValue[]);
    return matchesPattern(spec as EventPattern, value);
  });
}
