// Which layers to approximate and with which multiplier: glob patterns over node and weight names.
// `*` matches within one dotted segment ("blocks.*.mlp.fc1"), `**` across segments ("**head**").
// Every pattern must match at least one candidate layer, so a typo never silently selects nothing.
import type {ApproximableLayer} from './emulate/approximable.js';

export interface SelectionOptions {
  /** Patterns selecting layers; default every candidate. */
  layers?: string[];
  /** Patterns removing layers; default the classifier head (names containing "head", as TransAxx). */
  exclude?: string[];
  /** Pattern → multiplier name; the first matching pattern (in insertion order) wins. */
  assign?: Record<string, string>;
  /** Multiplier for selected layers no `assign` pattern matches. */
  default?: string;
}

export const DEFAULT_EXCLUDE = ['**head**'];

export class SelectionError extends Error {
  constructor(
    message: string,
    /** The option at fault: "layers", "exclude", "assign" or "default". */
    readonly field: string,
  ) {
    super(message);
    this.name = 'SelectionError';
  }
}

export function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*' && pattern[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (ch === '*') source += '[^.]*';
    else if (ch === '?') source += '[^.]';
    else source += ch.replace(/[\\^$+.()|{}[\]]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

const namesOf = (layer: ApproximableLayer): string[] => [layer.node.name, ...(layer.weight ? [layer.weight] : [])];

function matches(pattern: RegExp, layer: ApproximableLayer): boolean {
  return namesOf(layer).some((name) => pattern.test(name));
}

function checkAllMatch(patterns: readonly string[], candidates: readonly ApproximableLayer[], field: string): void {
  for (const pattern of patterns) {
    if (!candidates.some((layer) => matches(globToRegExp(pattern), layer))) {
      const known = candidates.slice(0, 12).map((l) => l.node.name);
      throw new SelectionError(
        `${field} pattern "${pattern}" matches no approximable layer; layers are: ${known.join(', ')}${candidates.length > known.length ? ', …' : ''} (* matches within a dotted segment, ** across)`,
        field,
      );
    }
  }
}

/** The selected layers with their multiplier names, in graph order. */
export function selectLayers(candidates: readonly ApproximableLayer[], opts: SelectionOptions): {layer: ApproximableLayer; multiplier: string}[] {
  const include = opts.layers ?? ['**'];
  const exclude = opts.exclude ?? DEFAULT_EXCLUDE;
  const assign = Object.entries(opts.assign ?? {});
  checkAllMatch(include, candidates, 'layers');
  // The default exclusion may legitimately match nothing (a model without a head); explicit ones may not.
  if (opts.exclude) checkAllMatch(exclude, candidates, 'exclude');
  const includeRe = include.map(globToRegExp);
  const excludeRe = exclude.map(globToRegExp);
  const selected = candidates.filter((l) => includeRe.some((re) => matches(re, l)) && !excludeRe.some((re) => matches(re, l)));
  if (selected.length === 0) throw new SelectionError('the layer selection is empty after exclusions', 'layers');
  checkAllMatch(
    assign.map(([pattern]) => pattern),
    selected,
    'assign',
  );
  return selected.map((layer) => {
    const hit = assign.find(([pattern]) => matches(globToRegExp(pattern), layer));
    const multiplier = hit?.[1] ?? opts.default;
    if (multiplier === undefined) {
      throw new SelectionError(`layer "${layer.node.name}" matches no assign pattern and no default multiplier is given`, 'default');
    }
    return {layer, multiplier};
  });
}
