/** Durations in journey files: one or more `<integer><unit>` groups, units s, m, h, d, w (`90m`, `1d12h`). */
export const DURATION_PATTERN = /^(\d+[smhdw])+$/;

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

export class DurationError extends Error {
  override readonly name = 'DurationError';
}

/** Parses a duration such as `1d12h` into seconds; throws DurationError naming the text when it is not one. */
export function parseDuration(text: string): number {
  if (!DURATION_PATTERN.test(text)) {
    throw new DurationError(`"${text}" is not a duration: expected groups of <integer><s|m|h|d|w>, e.g. "90m" or "1d12h"`);
  }
  let seconds = 0;
  for (const match of text.matchAll(/(\d+)([smhdw])/g)) {
    seconds += Number(match[1]) * UNIT_SECONDS[match[2]];
  }
  return seconds;
}

export const MAX_WAIT_SECONDS = 90 * 86400;
