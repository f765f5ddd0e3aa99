// The problem in index form, which every search method works on: a configuration is one candidate
// index per layer (problem order). Validation lives here so every method reports bad input the same way.
import {SearchInputError} from './errors.js';
import {macWeightedRelativePower} from './power.js';
import type {Assignment, MultiplierCandidate, RelativePower, SearchProblem} from './types.js';

/** Candidate index per layer, in the problem's layer order. */
export type Config = readonly number[];

export interface SearchSpace {
  readonly problem: SearchProblem;
  readonly layerNames: readonly string[];
  /** candidates[l][i]: the i-th multiplier layer l may use. */
  readonly candidates: readonly (readonly MultiplierCandidate[])[];
  /** MACs_l / MACs_total. */
  readonly macShare: readonly number[];
  /** drops[l][i]: predicted drop of layer l alone on candidates[l][i]; undefined without a sensitivity matrix. */
  readonly drops: readonly (readonly number[])[] | undefined;
  /** Index of each layer's lowest-power candidate. */
  readonly cheapest: readonly number[];
  /** Number of distinct configurations. */
  readonly size: number;
  /** 1 − power of the cheapest configuration: the largest saving the power model allows. */
  readonly maxSaving: number;
  relativePower(config: Config): number;
  toAssignment(config: Config): Assignment;
}

export function configId(config: Config): string {
  return config.join(',');
}

export function compileSpace(problem: SearchProblem): SearchSpace {
  const where = 'search problem';
  if (problem.layers.length === 0) throw new SearchInputError('problem', `${where}: "layers" is empty; list the approximable layers with their MACs`);
  if (!Number.isFinite(problem.baselineAccuracy)) throw new SearchInputError('problem', `${where}: "baselineAccuracy" must be a number`);
  if (!(problem.maxAccuracyDrop >= 0)) throw new SearchInputError('problem', `${where}: "maxAccuracyDrop" must be >= 0, got ${problem.maxAccuracyDrop}`);
  const byName = new Map<string, MultiplierCandidate>();
  for (const [i, m] of problem.multipliers.entries()) {
    if (byName.has(m.name)) throw new SearchInputError('problem', `${where}: multipliers[${i}] repeats the name ${m.name}`);
    if (!(m.relativePower >= 0)) throw new SearchInputError('problem', `${where}: multipliers[${i}] (${m.name}): "relativePower" must be >= 0`);
    byName.set(m.name, m);
  }
  const seen = new Set<string>();
  const candidates = problem.layers.map((layer, l) => {
    const at = `${where}: layers[${l}] (${layer.name})`;
    if (seen.has(layer.name)) throw new SearchInputError('problem', `${at}: the layer is listed twice`);
    seen.add(layer.name);
    if (!(layer.macs >= 0)) throw new SearchInputError('problem', `${at}: "macs" must be >= 0, got ${layer.macs}`);
    const names = layer.candidates ?? problem.multipliers.map((m) => m.name);
    if (names.length === 0) throw new SearchInputError('problem', `${at}: no candidate multipliers; give at least one`);
    return names.map((name) => {
      const m = byName.get(name);
      if (m === undefined) throw new SearchInputError('problem', `${at}: unknown candidate multiplier ${name}; known: ${[...byName.keys()].join(', ')}`);
      return m;
    });
  });
  const totalMacs = problem.layers.reduce((sum, layer) => sum + layer.macs, 0);
  if (!(totalMacs > 0)) throw new SearchInputError('problem', `${where}: the layers hold no MACs; at least one layer needs "macs" > 0`);
  const macShare = problem.layers.map((layer) => layer.macs / totalMacs);
  const layerNames = problem.layers.map((layer) => layer.name);
  const drops = problem.sensitivity === undefined ? undefined : readDrops(problem, candidates);
  const power: RelativePower = problem.relativePower ?? macWeightedRelativePower(problem.layers, problem.multipliers);

  const toAssignment = (config: Config): Assignment => {
    const assignment: Assignment = {};
    for (const [l, name] of layerNames.entries()) assignment[name] = candidates[l]![config[l]!]!.name;
    return assignment;
  };
  const cheapest = candidates.map((list) => argMin(list.map((m) => m.relativePower)));
  return {
    problem,
    layerNames,
    candidates,
    macShare,
    drops,
    cheapest,
    size: candidates.reduce((product, list) => product * list.length, 1),
    maxSaving: 1 - power(toAssignment(cheapest)),
    relativePower: (config) => power(toAssignment(config)),
    toAssignment,
  };
}

function readDrops(problem: SearchProblem, candidates: readonly (readonly MultiplierCandidate[])[]): number[][] {
  const sensitivity = problem.sensitivity!;
  return problem.layers.map((layer, l) =>
    candidates[l]!.map((m) => {
      if (m.exact) return sensitivity[layer.name]?.[m.name] ?? 0;
      const drop = sensitivity[layer.name]?.[m.name];
      if (drop === undefined || !Number.isFinite(drop)) {
        throw new SearchInputError('sensitivity', `search problem: the sensitivity matrix has no drop for layer ${layer.name} × multiplier ${m.name}; measure that cell or drop the candidate`);
      }
      return drop;
    }),
  );
}

function argMin(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! < values[best]!) best = i;
  return best;
}
