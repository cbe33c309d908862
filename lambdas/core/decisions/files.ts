import { checkCatalog, DecisionCatalogError } from './catalog';
import { parseOffer, parsePlacement, type Offer, type Placement } from './model';

export interface CatalogFile {
  /** Where it came from, for messages (e.g. `offers/free-shipping.json`). */
  path: string;
  text: string;
}

/**
 * Parses offer and placement files (one per file) and checks them together: ids unique, every offer's placements
 * exist with their required content, ranking formulas parse. Every problem names its file and field.
 */
export function readCatalogFiles(offerFiles: readonly CatalogFile[], placementFiles: readonly CatalogFile[]): { offers: Offer[]; placements: Placement[]; problems: string[] } {
  const problems: string[] = [];
  const read = <T extends { id: string }>(files: readonly CatalogFile[], parse: (input: unknown) => { ok: true; value: T } | { ok: false; errors: string[] }, kind: string) => {
    const out: T[] = [];
    const fileOf = new Map<string, string>();
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
      out.push(result.value);
    }
    return { out, fileOf };
  };
  const placements = read(placementFiles, parsePlacement, 'placement');
  const offers = read(offerFiles, parseOffer, 'offer');
  for (const problem of checkCatalog(offers.out, placements.out)) {
    const id = /^offer "([^"]+)"/.exec(problem)?.[1] ?? '';
    problems.push(`${offers.fileOf.get(id) ?? 'offers'}: ${problem}`);
  }
  return { offers: offers.out, placements: placements.out, problems };
}

/** `readCatalogFiles`, failing with every problem (synth, the local stack). */
export function compileCatalogFiles(offerFiles: readonly CatalogFile[], placementFiles: readonly CatalogFile[], where: string): { offers: Offer[]; placements: Placement[] } {
  const { offers, placements, problems } = readCatalogFiles(offerFiles, placementFiles);
  if (problems.length > 0) throw new DecisionCatalogError([`${problems.length} problem(s) in the offer catalog under ${where}`, ...problems]);
  return { offers, placements };
}
