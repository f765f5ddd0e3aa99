// Baseline: a (μ+λ) genetic algorithm. Genes are the per-layer candidates; fitness is MCTS's reward
// (reward.ts), so all methods chase the same objective. Each generation breeds `populationSize`
// children by binary tournament, uniform crossover and per-gene mutation (rate 1/layers), evaluates
// the new ones as one parallel batch, and keeps the best `populationSize` of parents and children.
// Children already in the ledger cost nothing. Twenty generations without a new configuration end it.
import type {EvaluationLedger} from './ledger.js';
import {reward, type RewardShape} from './reward.js';
import type {Random} from '../../util/random.js';
import {configId, type Config, type SearchSpace} from './space.js';
import type {SearchStrategy} from './strategy.js';
import type {Json} from './types.js';

export interface GeneticParams {
  populationSize: number;
  reward: RewardShape;
}

const STAGNATION_LIMIT = 20;

interface GeneticState {
  population: number[][];
  stagnant: number;
}

export function geneticSearch(space: SearchSpace, rng: Random, params: GeneticParams, saved?: Json): SearchStrategy {
  const state: GeneticState = (saved as unknown as GeneticState | null | undefined) ?? {population: [], stagnant: 0};
  const context = {maxAccuracyDrop: space.problem.maxAccuracyDrop, maxSaving: space.maxSaving};
  const layers = space.candidates.length;
  const randomConfig = (): number[] => space.candidates.map((list) => rng.int(list.length));

  return {
    async iterate(ledger: EvaluationLedger, remainingBudget: number) {
      const fitness = (config: Config): number => reward(ledger.get(config)!, context, params.reward);
      const children: number[][] = [];
      const fresh = new Set<string>();
      const want = Math.min(params.populationSize, remainingBudget);
      for (let attempt = 0; fresh.size < want && attempt < params.populationSize * 4; attempt++) {
        const child = state.population.length === 0 ? randomConfig() : breed(state.population, fitness);
        if (ledger.get(child) === undefined) fresh.add(configId(child));
        children.push(child);
      }
      await ledger.evaluate(children);
      state.stagnant = fresh.size === 0 ? state.stagnant + 1 : 0;
      const pool = new Map<string, number[]>();
      for (const config of [...state.population, ...children]) pool.set(configId(config), config);
      state.population = [...pool.values()]
        .map((config, index) => ({config, index, fit: fitness(config)}))
        .sort((a, b) => b.fit - a.fit || a.index - b.index)
        .slice(0, params.populationSize)
        .map(({config}) => config);
      return state.stagnant < STAGNATION_LIMIT && ledger.count < space.size;
    },
    save: () => state as unknown as Json,
  };

  function breed(population: readonly number[][], fitness: (config: Config) => number): number[] {
    const tournament = (): number[] => {
      const a = population[rng.int(population.length)]!;
      const b = population[rng.int(population.length)]!;
      return fitness(b) > fitness(a) ? b : a;
    };
    const mother = tournament();
    const father = tournament();
    return mother.map((gene, l) => {
      const inherited = rng.next() < 0.5 ? gene : father[l]!;
      return rng.next() < 1 / layers ? rng.int(space.candidates[l]!.length) : inherited;
    });
  }
}
