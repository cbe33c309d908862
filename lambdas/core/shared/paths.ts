/**
 * Data paths used in conditions, correlations and waits: a root (`event`, `profile`, `context`, `steps`)
 * followed by identifier segments, e.g. `event.properties.total`. They translate 1:1 into JSONPath (`$.event.properties.total`)
 * so the same path means the same thing in the router (JavaScript) and in the state machine (ASL Choice).
 */
// `length` is excluded: the local runner's JSONPath reads it from lists and strings, AWS and `readPath` do not.
export const DATA_PATH_PATTERN = /^(event|profile|context|steps)(\.(?!length(?:\.|$))[A-Za-z_][A-Za-z0-9_]*)+$/;

export function toJsonPath(path: string): string {
  return `$.${path}`;
}

/** Reads a dotted path from a plain object; undefined when any segment is missing. Own properties only, like JSONPath. */
export function readPath(data: unknown, path: string): unknown {
  let current: unknown = data;
  for (const segment of path.split('.')) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    if (!Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}
