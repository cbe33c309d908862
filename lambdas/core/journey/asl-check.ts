import { Placeholder, type AslState } from './asl';

/** A states scope: the machine itself, a Parallel branch or a Map's item processor. */
interface StatesScope {
  StartAt: string;
  States: Record<string, AslState>;
}

const TERMINAL = new Set(['Succeed', 'Fail']);
const KNOWN_PLACEHOLDERS = new Set<string>(Object.values(Placeholder));

/**
 * Structural problems of a definition, beyond what a JSON schema sees (asl-validator, run by aws-local-stepfunctions,
 * checks the fields): in every scope, StartAt and every transition name a state of that scope, every state is
 * reachable, every non-terminal non-Choice state has exactly one of Next or End; names are unique in the whole machine
 * and at most 80 characters; a Distributed Map is not inside an inline Map; `${Name}` placeholders are known ones.
 * An empty list means none found.
 */
export function aslProblems(definition: StatesScope): string[] {
  const problems: string[] = [];
  const names = new Map<string, string>();
  const visit = (scope: StatesScope, where: string, inInlineMap: boolean): void => {
    const states = scope.States ?? {};
    if (!(scope.StartAt in states)) problems.push(`${where}: StartAt "${scope.StartAt}" is not a state of this scope`);
    const edges = new Map<string, string[]>();
    for (const [name, state] of Object.entries(states)) {
      const at = `${where} > ${name}`;
      if (names.has(name)) problems.push(`${at}: the state name is also used at ${names.get(name)}`);
      else names.set(name, at);
      if (name.length > 80) problems.push(`${at}: state names are at most 80 characters (${name.length})`);
      const targets = transitions(state);
      edges.set(name, targets);
      for (const target of targets) {
        if (!(target in states)) problems.push(`${at}: goes to "${target}", not a state of this scope`);
      }
      if (state.Type === 'Choice') {
        const ends = state.Next !== undefined || state.End !== undefined;
        if (ends) problems.push(`${at}: a Choice may have neither Next nor End`);
      } else if (!TERMINAL.has(state.Type)) {
        const hasNext = typeof state.Next === 'string';
        if (hasNext === (state.End === true)) problems.push(`${at}: needs exactly one of Next or End`);
      }
      const branches = (state.Branches as StatesScope[] | undefined) ?? [];
      branches.forEach((branch, i) => visit(branch, `${at} [branch ${i}]`, inInlineMap));
      type Processor = StatesScope & { ProcessorConfig?: { Mode?: string } };
      const processor = (state.ItemProcessor ?? state.Iterator) as Processor | undefined;
      if (processor) {
        const distributed = processor.ProcessorConfig?.Mode === 'DISTRIBUTED';
        if (distributed && inInlineMap) problems.push(`${at}: a Distributed Map inside an inline Map`);
        visit(processor, `${at} [items]`, inInlineMap || !distributed);
      }
    }
    const reached = new Set<string>();
    const walk = (name: string): void => {
      if (reached.has(name) || !(name in states)) return;
      reached.add(name);
      for (const next of edges.get(name) ?? []) walk(next);
    };
    walk(scope.StartAt);
    for (const name of Object.keys(states)) {
      if (!reached.has(name)) problems.push(`${where} > ${name}: not reachable from ${scope.StartAt}`);
    }
  };
  visit(definition, '(machine)', false);
  for (const match of JSON.stringify(definition).matchAll(/\$\{(\w+)\}/g)) {
    if (!KNOWN_PLACEHOLDERS.has(match[1])) problems.push(`unknown placeholder \${${match[1]}}`);
  }
  return problems;
}

/** The states a state may go to: Next, Default, each Choice rule's Next and each Catch's Next. */
function transitions(state: AslState): string[] {
  const out: string[] = [];
  if (typeof state.Next === 'string') out.push(state.Next);
  if (typeof state.Default === 'string') out.push(state.Default);
  type Rule = { Next?: unknown };
  const rules = [...((state.Choices as Rule[] | undefined) ?? []), ...((state.Catch as Rule[] | undefined) ?? [])];
  for (const rule of rules) if (typeof rule.Next === 'string') out.push(rule.Next);
  return out;
}
