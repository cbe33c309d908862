import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { DefinitionFile } from '../lambdas/core/shared/definition-files';

export const PROJECT_ROOT = path.join(__dirname, '..');

/**
 * The `*.json` files of a folder, sorted by name (so the template is stable), with paths relative to the repository
 * (so messages do not depend on where synth runs). A missing folder has no files.
 */
export function readDefinitionDir(dir: string): DefinitionFile[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => ({ path: path.relative(PROJECT_ROOT, path.join(dir, name)), text: readFileSync(path.join(dir, name), 'utf8') }));
}
