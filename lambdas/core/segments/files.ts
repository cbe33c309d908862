import { orderSegments } from './catalog';
import { SegmentCatalogError } from './engine';
import { parseSegment, type SegmentDefinition } from './rule';
import { parseDefinitionFiles, type DefinitionFile } from '../shared/definition-files';

export type SegmentFile = DefinitionFile;

/**
 * Parses segment files (one segment per file) and checks them as a set: ids unique, references resolve, no cycles.
 * Every problem names its file and the path in the rule; the segments come back in evaluation order.
 */
export function readSegmentFiles(files: readonly SegmentFile[]): { segments: SegmentDefinition[]; problems: string[] } {
  const problems: string[] = [];
  const { definitions: parsed, fileOf } = parseDefinitionFiles(files, 'segment', parseSegment, problems);
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
