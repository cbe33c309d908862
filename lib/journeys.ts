import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { compileCatalog, JourneyCatalogError, type CompiledJourney } from '../lambdas/core/journey';

/** The journey files shipped with the platform, one journey per `*.json` file. */
export const JOURNEYS_DIR = path.join(__dirname, '..', 'statemachines');
const PROJECT_ROOT = path.join(__dirname, '..');

/** Thrown at synth time when a journey file does not validate. */
export { JourneyCatalogError };

/**
 * Reads, validates and compiles every `*.json` journey in `dir` (sorted, so the template is stable).
 * Synth fails here, before any resource is defined, rather than at deploy time.
 */
export function loadJourneys(dir: string = JOURNEYS_DIR): CompiledJourney[] {
  const names = readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort();
  const files = names.map((name) => ({
    // Relative to the repository, not the working directory, so messages (and the registry item) do not depend on where synth runs.
    path: path.relative(PROJECT_ROOT, path.join(dir, name)),
    text: readFileSync(path.join(dir, name), 'utf8'),
  }));
  return compileCatalog(files, dir);
}
