// A method that trusts the sensitivity matrix and corrects it by measurement. The predicted drop of a
// configuration is k · Σ_l max(0, d_l(c_l)): the single-layer drops of the matrix, added, scaled by a
// factor k fitted (least squares through 0) to every configuration measured so far, which absorbs how
// much layers' errors compound. Each iteration evaluates the cheapest configuration not measured yet
// whose predicted drop is within the threshold and which would beat the best one found (a
// multiple-choice knapsack, solved exactly by best-first branch and bound in order of power). When
// the model admits none, its threshold widens step by step, so configurations the model doubts are
// tried in order of power too; the method is done when nothing cheaper than the best is left.
//
// Stateless like greedy: every iteration derives k and its choice from the ledger, so a checkpoint
// needs nothing beyond the ledger.
import {SearchInputError} from './errors.js';
import type {EvaluationLedger} from './ledger.js';
import type {Config, SearchSpace} from './space.js';
import type {SearchStrategy} from './strategy.js';

/** Partial configurations looked at per query before giving up on a widening level (bounds the work on huge spaces). */
const MAX_EXPANSIONS = 200_000;
/** Widening levels: threshold + step · (1.5^j − 1), j = 0 … */
const MAX_LEVELS = 40;

export function knapsackSearch(space: SearchSpace): SearchStrategy {
  if (space.drops === undefined) throw new SearchInputError('sensitivity', 'search: method "knapsack" (the default) needs a sensitivity matrix; pass the sensitivity step\'s matrix as `sensitivity`, or choose another method (e.g. mcts)');
  const drops = space.drops.map((row) => row.map((d) => Math.max(0, d)));
  const powerShare = space.candidates.map((list, l) => list.map((m) => space.macShare[l]! * m.relativePower));
  const threshold = space.problem.maxAccuracyDrop;
  const maxAdditive = drops.reduce((sum, row) => sum + Math.max(...row), 0);
  const additive = (config: Config): number => config.reduce((sum, c, l) => sum + drops[l]![c]!, 0);
  return {
    async iterate(ledger: EvaluationLedger) {
      const points = ledger.points;
      let product = 0;
      let squared = 0;
      let bestPower = Infinity;
      for (const point of points) {
        const a = additive(configOf(space, point.assignment));
        product += a * point.drop;
        squared += a * a;
        if (point.feasible) bestPower = Math.min(bestPower, point.relativePower);
      }
      const scale = squared > 0 ? Math.max(0, product / squared) : 1;
      const step = Math.max(threshold, 1e-3) / 2;
      for (let level = 0; level < MAX_LEVELS; level++) {
        const allowed = threshold + step * (1.5 ** level - 1);
        const config = cheapestUnmeasured(drops, powerShare, scale === 0 ? Infinity : allowed / scale, bestPower, (c) => ledger.get(c) !== undefined);
        if (config !== undefined) {
          await ledger.evaluate([config]);
          return true;
        }
        // Every configuration is admitted at this level: nothing cheaper than the best is left to try.
        if (scale * maxAdditive <= allowed) return false;
      }
      return false;
    },
    save: () => null,
  };
}

function configOf(space: SearchSpace, assignment: Record<string, string>): number[] {
  return space.layerNames.map((name, l) => space.candidates[l]!.findIndex((m) => m.name === assignment[name]));
}

interface Node {
  bound: number;
  power: number;
  drop: number;
  config: number[];
}

/** Drop bins of the bound table: finer bins prune more, at L × BINS × candidates work per query. */
const BINS = 256;

/**
 * The configuration of least power with Σ drops <= `budget` and power < `below` that `measured` rejects
 * not, by best-first branch and bound over layers. The bound adds to the power so far the least power the
 * remaining layers reach within the remaining drop budget, from a table over drops rounded down to bins
 * (a relaxation, so the bound never overestimates and the first complete configuration popped is optimal).
 */
function cheapestUnmeasured(drops: number[][], powerShare: number[][], budget: number, below: number, measured: (config: number[]) => boolean): number[] | undefined {
  const rest = restBound(drops, powerShare, budget);
  const heap = new MinHeap<Node>((a, b) => a.bound - b.bound || a.drop - b.drop);
  heap.push({bound: rest(0, 0), power: 0, drop: 0, config: []});
  for (let expansions = 0; heap.size > 0 && expansions < MAX_EXPANSIONS; expansions++) {
    const node = heap.pop()!;
    if (node.bound >= below - 1e-12) return undefined;
    const l = node.config.length;
    if (l === drops.length) {
      if (!measured(node.config)) return node.config;
      continue;
    }
    for (let c = 0; c < drops[l]!.length; c++) {
      const drop = node.drop + drops[l]![c]!;
      if (drop > budget + 1e-12) continue;
      const power = node.power + powerShare[l]![c]!;
      const bound = power + rest(l + 1, drop);
      if (bound < Infinity) heap.push({bound, power, drop, config: [...node.config, c]});
    }
  }
  return undefined;
}

/** rest(l, drop): a lower bound on the power of layers l… whose drops fit in `budget − drop`. */
function restBound(drops: number[][], powerShare: number[][], budget: number): (layer: number, drop: number) => number {
  const layers = drops.length;
  if (!Number.isFinite(budget) || budget <= 0) {
    const cheapest = new Array<number>(layers + 1).fill(0);
    for (let l = layers - 1; l >= 0; l--) cheapest[l] = cheapest[l + 1]! + Math.min(...powerShare[l]!);
    return (layer) => cheapest[layer]!;
  }
  const width = budget / BINS;
  // table[l][b]: least power of layers l… with Σ floor(drop / width) <= b.
  const table = Array.from({length: layers + 1}, () => new Float64Array(BINS + 1));
  for (let l = layers - 1; l >= 0; l--) {
    const next = table[l + 1]!;
    const row = table[l]!;
    const bins = drops[l]!.map((d) => Math.floor(d / width));
    for (let b = 0; b <= BINS; b++) {
      let least = Infinity;
      for (let c = 0; c < bins.length; c++) if (bins[c]! <= b) least = Math.min(least, powerShare[l]![c]! + next[b - bins[c]!]!);
      row[b] = least;
    }
  }
  return (layer, drop) => table[layer]![Math.min(BINS, Math.floor(Math.max(0, budget - drop) / width + 1e-9))]!;
}

class MinHeap<T> {
  readonly #items: T[] = [];
  constructor(readonly less: (a: T, b: T) => number) {}

  get size(): number {
    return this.#items.length;
  }

  push(item: T): void {
    const items = this.#items;
    items.push(item);
    for (let i = items.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (this.less(items[i]!, items[parent]!) >= 0) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      for (let i = 0; ; ) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < items.length && this.less(items[left]!, items[smallest]!) < 0) smallest = left;
        if (right < items.length && this.less(items[right]!, items[smallest]!) < 0) smallest = right;
        if (smallest === i) break;
        [items[i], items[smallest]] = [items[smallest]!, items[i]!];
        i = smallest;
      }
    }
    return top;
  }
}
