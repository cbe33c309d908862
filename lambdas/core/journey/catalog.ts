import { compileJourney } from './compile';
import type { AslDefinition } from './asl';
import type { Journey } from './schema';
import { validateJourney, type Violation } from './validate';
import { journeyVersion } from './version';

export interface JourneyFile {
  /** Where it came from, for messages (e.g. `statemachines/welcome.json`). */
  path: string;
  text: string;
}

export interface CompiledJourney {
  journey: Journey;
  asl: AslDefinition;
  version: string;
  path: string;
}

export interface CatalogProblem extends Violation {
  file: string;
}

/** Parses, validates and compiles journey files; ids must be unique across files. */
export function buildCatalog(files: readonly JourneyFile[]): { journeys: CompiledJourney[]; problems: CatalogProblem[] } {
  const journeys: CompiledJourney[] = [];
  const problems: CatalogProblem[] = [];
  const seen = new Map<string, string>();
  for (const file of files) {
    let data: unknown;
    try {
      data = JSON.parse(file.text);
    } catch (error) {
      problems.push({ file: file.path, path: '(file)', message: `not valid JSON: ${(error as Error).message}` });
      continue;
    }
    const result = validateJourney(data);
    if (!result.ok) {
      problems.push(...result.violations.map((v) => ({ ...v, file: file.path })));
      continue;
    }
    const previous = seen.get(result.journey.id);
    if (previous) {
      problems.push({ file: file.path, path: 'id', message: `journey id "${result.journey.id}" is also used by ${previous}` });
      continue;
    }
    seen.set(result.journey.id, file.path);
    const asl = compileJourney(result.journey);
    journeys.push({ journey: result.journey, asl, version: journeyVersion(asl), path: file.path });
  }
  return { journeys, problems };
}

export function formatViolation(v: Violation & { file?: string }): string {
  return `${v.file ? `${v.file}: ` : ''}${v.path}${v.nodeId ? ` (node "${v.nodeId}")` : ''}: ${v.message}`;
}

/** Journey files that do not validate; the message lists every problem, so one run shows them all. */
export class JourneyCatalogError extends Error {
  override readonly name = 'JourneyCatalogError';
}

/** `buildCatalog`, failing with every problem when any file does not validate (synth, the local stack). */
export function compileCatalog(files: readonly JourneyFile[], where: string): CompiledJourney[] {
  const { journeys, problems } = buildCatalog(files);
  if (problems.length > 0) {
    throw new JourneyCatalogError(`${problems.length} problem(s) in the journeys under ${where}:\n  ${problems.map(formatViolation).join('\n  ')}`);
  }
  return journeys;
}
