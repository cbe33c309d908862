/** A definition file (journey, segment, offer, placement): where it came from, for messages, and its text. */
export interface DefinitionFile {
  path: string;
  text: string;
}

export type DefinitionParse<T> = (input: unknown) => { ok: true; value: T } | { ok: false; errors: string[] };

/**
 * Parses one definition per file with `parse`; every problem is pushed to `problems` naming its file (bad JSON, the
 * parser's messages, a duplicate id). Returns the definitions and which file each id came from.
 */
export function parseDefinitionFiles<T extends { id: string }>(
  files: readonly DefinitionFile[],
  kind: string,
  parse: DefinitionParse<T>,
  problems: string[],
): { definitions: T[]; fileOf: Map<string, string> } {
  const definitions: T[] = [];
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
    definitions.push(result.value);
  }
  return { definitions, fileOf };
}
