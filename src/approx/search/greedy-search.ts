// Baseline: greedy in sensitivity order, with real evaluations. Start from every layer on its most
// expensive (exact) candidate; take layers least sensitive per unit of power saved first (by the
// sensitivity matrix; without one, most MACs first); for each, try its cheaper candidates cheapest
// first and keep the first one whose evaluated configuration stays within the threshold.
//
// It needs no state of its own: each iteration replays the decisions from the ledger (lookups are
// free) and evaluates the first configuration the ledger does not know yet. Decisions are sequential,
// so greedy evaluates one configuration per iteration whatever the parallelism.
import type {EvaluationLedger} from './ledger.js';
import type {SearchSpace} from './space.js';
import type {SearchStrategy} from './strategy.js';

export function greedyOrder(space: SearchSpace): number[] {
  const score = space.candidates.map((list, l) => {
    const cheapest = space.cheapest[l]!;
    const gain = space.macShare[l]! * (1 - list[cheapest]!.relativePower);
    if (space.drops === undefined) return -gain;
    return gain > 0 ? space.drops[l]![cheapest]! / gain : Infinity;
  });
  return space.layerNames.map((_, l) => l).sort((a, b) => score[a]! - score[b]! || a - b);
}

export function greedySearch(space: SearchSpace): SearchStrategy {
  const order = greedyOrder(space);
  const start = space.candidates.map((list) => list.reduce((best, m, i) => (m.relativePower > list[best]!.relativePower ? i : best), 0));
  return {
    async iterate(ledger: EvaluationLedger) {
      const config = [...start];
      for (const layer of order) {
        const cheaper = space.candidates[layer]!
          .map((m, i) => ({i, power: m.relativePower}))
          .filter(({power}) => power < space.candidates[layer]![config[layer]!]!.relativePower)
          .sort((a, b) => a.power - b.power || a.i - b.i);
        for (const {i} of cheaper) {
          const trial = [...config];
          trial[layer] = i;
          const point = ledger.get(trial);
          if (point === undefined) {
            await ledger.evaluate([trial]);
            return true;
          }
          if (point.feasible) {
            config[layer] = i;
            break;
          }
        }
      }
      return false;
    },
    save: () => null,
  };
}
