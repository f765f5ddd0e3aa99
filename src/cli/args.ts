// A small argv parser: commands declare their options once and get typed values back; unknown
// options and missing values are usage errors (exit 2), never silently ignored.
import {UsageError} from './command.js';

export interface OptionSpec {
  /** Long name without dashes ("fail-fast"). */
  name: string;
  short?: string;
  /** flag: boolean; string: one value; list: repeatable value. */
  type: 'flag' | 'string' | 'list';
}

export interface ParsedArgs {
  positionals: string[];
  flags: Set<string>;
  strings: Map<string, string>;
  lists: Map<string, string[]>;
}

export function parseArgs(argv: readonly string[], specs: readonly OptionSpec[]): ParsedArgs {
  const parsed: ParsedArgs = {positionals: [], flags: new Set(), strings: new Map(), lists: new Map()};
  const byName = new Map<string, OptionSpec>();
  for (const spec of specs) {
    byName.set(`--${spec.name}`, spec);
    if (spec.short !== undefined) byName.set(`-${spec.short}`, spec);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      parsed.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      parsed.positionals.push(arg);
      continue;
    }
    let eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    let flagText = eq >= 0 ? arg.slice(0, eq) : arg;
    let spec = byName.get(flagText);
    // -j4: a short option with its value attached.
    const attached = !arg.startsWith('--') && arg.length > 2 ? byName.get(arg.slice(0, 2)) : undefined;
    if (spec === undefined && attached !== undefined && attached.type !== 'flag') {
      spec = attached;
      flagText = arg.slice(0, 2);
      eq = 1;
    }
    if (spec === undefined) throw new UsageError(`unknown option ${flagText}`);
    if (spec.type === 'flag') {
      if (eq >= 0) throw new UsageError(`option --${spec.name} takes no value`);
      parsed.flags.add(spec.name);
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      i++;
    }
    if (value === undefined) throw new UsageError(`option --${spec.name} needs a value`);
    if (spec.type === 'string') parsed.strings.set(spec.name, value);
    else parsed.lists.set(spec.name, [...(parsed.lists.get(spec.name) ?? []), value]);
  }
  return parsed;
}

export function intOption(args: ParsedArgs, name: string, min: number): number | undefined {
  const text = args.strings.get(name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new UsageError(`--${name} must be an integer >= ${min}, got "${text}"`);
  return value;
}
