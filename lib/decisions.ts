import * as path from 'node:path';
import { DecisionCatalogError } from '../lambdas/core/decisions/catalog';
import { readCatalogFiles } from '../lambdas/core/decisions/files';
import type { Offer, Placement } from '../lambdas/core/decisions/model';
import { PROJECT_ROOT, readDefinitionDir } from './definition-files';

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

/**
 * Reads and checks every `offers/*.json` and `placements/*.json` as one catalog (each file parsed with `parseOffer` /
 * `parsePlacement`, ids unique, then `checkCatalog`: offers name known placements, give their required content, and have
 * ranking formulas that parse). Synth fails here, with every problem listed and naming its file, before any resource
 * is defined. A missing folder is no entries; files are read sorted, so the template is stable.
 */
export function loadDecisionFiles(dirs: { offers?: string; placements?: string } = {}): DecisionFiles {
  const { offers, placements, problems } = readCatalogFiles(readDefinitionDir(dirs.offers ?? OFFERS_DIR), readDefinitionDir(dirs.placements ?? PLACEMENTS_DIR));
  if (problems.length > 0) throw new DecisionCatalogError([`${problems.length} problem(s) in the offer and placement files`, ...problems]);
  return { offers, placements };
}
