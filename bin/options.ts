/**
 * The option parser every `waymark` command shares: `--name value`, `--name=value`, boolean `--flag`s, and
 * positional arguments. Options are read into null-prototype records, so a name like `--__proto__` is just unknown.
 */
import { dict, own } from '../lambdas/core/shared/records';

export class OptionError extends Error {
  override readonly name = 'OptionError';
}

export interface OptionSpec {
  /** Options that take a value, at most once. */
  values?: readonly string[];
  /** Options that take a value and may repeat (every value is kept, in order). */
  lists?: readonly string[];
  /** Options without a value. */
  flags?: readonly string[];
  /** Other spellings, exactly as typed (`-c`), for an option name. */
  aliases?: Readonly<Record<string, string>>;
  /** What a value is, for the "takes" error of a missing or empty one (given as typed). @default 'a value' */
  takes?: Readonly<Record<string, string | ((value: string | undefined) => string)>>;
  /** Options whose value may not begin with '-' (the next option is taken for a missing value). */
  dashless?: readonly string[];
  /** Checks a value once it is known present and not given twice; throws its own error. */
  check?: Readonly<Record<string, (value: string, flag: string) => void>>;
  /** Sees each positional argument where it stands, so a command that takes none can say so first. */
  positional?: (arg: string) => void;
}

export interface ParsedOptions {
  positional: string[];
  values: Record<string, string>;
  lists: Record<string, string[]>;
  flags: Record<string, true>;
}

export function parseOptions(args: readonly string[], spec: OptionSpec): ParsedOptions {
  const has = (names: readonly string[] | undefined, name: string) => names?.includes(name) ?? false;
  const parsed: ParsedOptions = { positional: [], values: dict(), lists: dict(), flags: dict() };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const equals = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const [flag, inline] = equals > 0 ? [arg.slice(0, equals), arg.slice(equals + 1)] : [arg, undefined];
    const name = own(spec.aliases, flag) ?? (flag.startsWith('--') ? flag.slice(2) : '');
    if (has(spec.flags, name) && inline === undefined) {
      parsed.flags[name] = true;
    } else if (has(spec.values, name) || has(spec.lists, name)) {
      const value = inline ?? args[++i];
      if (value === undefined || value === '' || (has(spec.dashless, name) && value.startsWith('-'))) {
        const what = own(spec.takes, name) ?? 'a value';
        throw new OptionError(`${flag} takes ${typeof what === 'string' ? what : what(value)}`);
      }
      const list = has(spec.lists, name);
      if (!list && parsed.values[name] !== undefined) throw new OptionError(`${flag} is given twice`);
      own(spec.check, name)?.(value, flag);
      if (list) (parsed.lists[name] ??= []).push(value);
      else parsed.values[name] = value;
    } else if (arg.startsWith('-')) {
      throw new OptionError(`unknown option ${arg}`);
    } else {
      spec.positional?.(arg);
      parsed.positional.push(arg);
    }
  }
  return parsed;
}
