import * as path from 'node:path';
import { SegmentCatalogError } from '../lambdas/core/segments/engine';
import { compileSegmentFiles } from '../lambdas/core/segments/files';
import type { SegmentDefinition } from '../lambdas/core/segments/rule';
import { PROJECT_ROOT, readDefinitionDir } from './definition-files';

/** The segment files shipped with the platform, one segment per `*.json` file. */
export const SEGMENTS_DIR = path.join(PROJECT_ROOT, 'segments');

/** Thrown at synth time when a segment file does not validate (or the files do not form a catalog). */
export { SegmentCatalogError };

/**
 * Reads and checks every `*.json` segment in `dir` as a set (ids unique, references resolve, no cycles); synth fails
 * here, with every problem listed, before any resource is defined. A missing folder is no segments.
 * The segments come back in evaluation order (referenced segments first); the file names are read sorted, so the
 * order, and so the template, is stable.
 */
export function loadSegments(dir: string = SEGMENTS_DIR): SegmentDefinition[] {
  return compileSegmentFiles(readDefinitionDir(dir), path.relative(PROJECT_ROOT, dir) || '.');
}
