import { orderSegments } from './catalog';
import { SegmentCatalogError } from './engine';
import { parseSegment, type SegmentDefinition } from './rule';

export interface SegmentFile {
  /** Where it came from, for messages (e.g. `segments/vip.json`). */
  path: string;
  text: string;
}

/**
 * Parses segment files (one segment per file) and checks them as a set: ids unique, references resolve, no cycles.
 * Every problem names its file and the path in the rule; the segments come back in evaluation order.
 */
export function readSegmentFiles(files: readonly SegmentFile[]): { segments: SegmentDefinition[]; problems: string[] } {
  const parsed: SegmentDefinition[] = [];
  const problems: string[] = [];
  const fileOf = new Map<string, string>();
  for (const file of files) {
    let data: unknown;
    try {
      data = JSON.parse(file.text);
    } catch (error) {
      problems.push(`${file.path}: not valid JSON: ${(error as Error).message}`);
      continue;
    }
    const result = parseSegment(data);
    if (!result.ok) {
      problems.push(...result.errors.map((e) => `${file.path}: ${e}`));
      continue;
    }
    const previous = fileOf.get(result.value.id);
    if (previous !== undefined) {
      problems.push(`${file.path}: id: segment id "${result.value.id}" is also used by ${previous}`);
      continue;
    }
    fileOf.set(result.value.id, file.path);
    parsed.push(result.value);
  }
  const ordered = orderSegments(parsed);
  if (!ordered.ok) {
    problems.push(...ordered.errors.map((e) => `${fileOf.get(/^segment "([^"]+)"/.exec(e)?.[1] ?? '') ?? 'segments'}: ${e}`));
    return { segments: [], problems };
  }
  return { segments: ordered.order, problems };
}

/** `readSegmentFiles`, failing with every problem (synth, the local stack). */
export function compileSegmentFiles(files: readonly SegmentFile[], where: string): SegmentDefinition[] {
  const { segments, problems } = readSegmentFiles(files);
  if (problems.length > 0) throw new SegmentCatalogError([`${problems.length} problem(s) in the segments under ${where}`, ...problems]);
  return segments;
}
