import { checkCatalog, DecisionCatalogError } from './catalog';
import { parseOffer, parsePlacement, type Offer, type Placement } from './model';
import { parseDefinitionFiles, type DefinitionFile } from '../shared/definition-files';

export type CatalogFile = DefinitionFile;

/**
 * Parses offer and placement files (one per file) and checks them together: ids unique, every offer's placements
 * exist with their required content, ranking formulas parse. Every problem names its file and field.
 */
export function readCatalogFiles(offerFiles: readonly CatalogFile[], placementFiles: readonly CatalogFile[]): { offers: Offer[]; placements: Placement[]; problems: string[] } {
  const problems: string[] = [];
  const placements = parseDefinitionFiles(placementFiles, 'placement', parsePlacement, problems).definitions;
  const { definitions: offers, fileOf } = parseDefinitionFiles(offerFiles, 'offer', parseOffer, problems);
  for (const problem of checkCatalog(offers, placements)) {
    const id = /^offer "([^"]+)": /.exec(problem)?.[1];
    const file = id === undefined ? undefined : fileOf.get(id);
    problems.push(file === undefined ? problem : `${file}: ${problem.slice(`offer "${id}": `.length)}`);
  }
  return { offers, placements, problems };
}

/** `readCatalogFiles`, failing with every problem (synth, the local stack). */
export function compileCatalogFiles(offerFiles: readonly CatalogFile[], placementFiles: readonly CatalogFile[], where: string): { offers: Offer[]; placements: Placement[] } {
  const { offers, placements, problems } = readCatalogFiles(offerFiles, placementFiles);
  if (problems.length > 0) throw new DecisionCatalogError([`${problems.length} problem(s) in the offer catalog under ${where}`, ...problems]);
  return { offers, placements };
}
