/**
 * Numbers an event may carry. DynamoDB stores magnitudes from 1e-130 to 9.99e125
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html); beyond,
 * the write fails and the event would be dead-lettered. Magnitudes are capped far lower, at 1e21, so that sums of
 * a property over many events stay storable too.
 */
export const NUMBER_LIMITS = { max: 1e21, min: 1e-130 } as const;

export function isStorableNumber(n: number): boolean {
  const magnitude = Math.abs(n);
  return Number.isFinite(n) && (magnitude === 0 || (magnitude >= NUMBER_LIMITS.min && magnitude <= NUMBER_LIMITS.max));
}

export const NUMBER_MESSAGE = `numbers are 0 or between ${NUMBER_LIMITS.min} and ${NUMBER_LIMITS.max} in magnitude`;

/** The path of each number in a JSON value outside the storable range (iterative: any depth). */
export function unstorableNumberPaths(value: unknown): (string | number)[][] {
  const found: (string | number)[][] = [];
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: at, path } = stack.pop()!;
    if (typeof at === 'number') {
      if (!isStorableNumber(at)) found.push(path);
    } else if (Array.isArray(at)) {
      at.forEach((item, i) => stack.push({ value: item, path: [...path, i] }));
    } else if (at !== null && typeof at === 'object') {
      for (const key of Object.keys(at)) stack.push({ value: (at as Record<string, unknown>)[key], path: [...path, key] });
    }
  }
  return found;
}
