import * as path from 'node:path';
import { compileCatalog, JourneyCatalogError, type CompiledJourney } from '../lambdas/core/journey';
import { PROJECT_ROOT, readDefinitionDir } from './definition-files';

/** The journey files shipped with the platform, one journey per `*.json` file. */
export const JOURNEYS_DIR = path.join(PROJECT_ROOT, 'statemachines');

/** Thrown at synth time when a journey file does not validate. */
export { JourneyCatalogError };

/**
 * Reads, validates and compiles every `*.json` journey in `dir` (sorted, so the template is stable; paths relative to
 * the repository, so messages and the registry item do not depend on where synth runs).
 * Synth fails here, before any resource is defined, rather than at deploy time.
 */
export function loadJourneys(dir: string = JOURNEYS_DIR): CompiledJourney[] {
  return compileCatalog(readDefinitionDir(dir), dir);
}
