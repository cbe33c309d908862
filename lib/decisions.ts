import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { checkCatalog, DecisionCatalogError } from '../lambdas/core/decisions/catalog';
import { parseOffer, parsePlacement, type Offer, type Placement } from '../lambdas/core/decisions/model';
import type { ParseResult } from '../lambdas/core/segments/rule';

const PROJECT_ROOT = path.join(__dirname, '..');
/** The offer files shipped with the platform, one offer per `*.json` file. */
export const OFFERS_DIR = path.join(PROJECT_ROOT, 'offers');
/** The placement files, one placement per `*.json` file. */
export const PLACEMENTS_DIR = path.join(PROJECT_ROOT, 'placements');

/** Thrown at synth time when an offer or placement file does not validate, or the files do not form a catalog. */
export { DecisionCatalogError };

export interface DecisionFiles {
  readonly offers: readonly Offer[];
  readonly placements: readonly Placement[];
}

interface File {
  /** Relative to the repository, not the working directory, so messages do not depend on where synth runs. */
  path: string;
  text: string;
}

function readDir(dir: string): File[] {
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

/** Parses one entry per file; every problem names its file; ids must be unique. `fileOf` maps each id to its file. */
function parseFiles<T extends { id: string }>(files: readonly File[], kind: string, parse: (input: unknown) => ParseResult<T>, problems: string[], fileOf: Map<string, string>): T[] {
  const parsed: T[] = [];
  for (const file of files) {
    let data: unknown;
    try {
      data = JSON.parse(file.text);
    } catch (error) {
      problems.push(`${file.path}: not valid JSON: ${(error as Error).message}`);
      continue;
    }
    const result = parse(data);
    if (!result.ok) {
      problems.push(...result.errors.map((e) => `${file.path}: ${e}`));
      continue;
    }
    const previous = fileOf.get(result.value.id);
    if (previous !== undefined) {
      problems.push(`${file.path}: id: ${kind} id "${result.value.id}" is also used by ${previous}`);
      continue;
    }
    fileOf.set(result.value.id, file.path);
    parsed.push(result.value);
  }
  return parsed;
}

/**
 * Reads and checks every `offers/*.json` and `placements/*.json` as one catalog (each file parsed with `parseOffer` /
 * `parsePlacement`, ids unique, then `checkCatalog`: offers name known placements, give their required content, and have
 * ranking formulas that parse). Synth fails here, with every problem listed and naming its file, before any resource
 * is defined. A missing folder is no entries; files are read sorted, so the template is stable.
 */
export function loadDecisionFiles(dirs: { offers?: string; placements?: string } = {}): DecisionFiles {
  const problems: string[] = [];
  const placementFiles = new Map<string, string>();
  const offerFiles = new Map<string, string>();
  const placements = parseFiles(readDir(dirs.placements ?? PLACEMENTS_DIR), 'placement', parsePlacement, problems, placementFiles);
  const offers = parseFiles(readDir(dirs.offers ?? OFFERS_DIR), 'offer', parseOffer, problems, offerFiles);
  for (const problem of checkCatalog(offers, placements)) {
    const offerId = /^offer "([^"]+)": /.exec(problem)?.[1];
    const file = offerId === undefined ? undefined : offerFiles.get(offerId);
    problems.push(file === undefined ? problem : `${file}: ${problem.slice(`offer "${offerId}": `.length)}`);
  }
  if (problems.length > 0) throw new DecisionCatalogError([`${problems.length} problem(s) in the offer and placement files`, ...problems]);
  return { offers, placements };
}
