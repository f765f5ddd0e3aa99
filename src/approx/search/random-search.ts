// Baseline: distinct configurations drawn uniformly, in batches so evaluations can run in parallel.
import type {EvaluationLedger} from './ledger.js';
import type {Random} from '../../util/random.js';
import {configId, type SearchSpace} from './space.js';
import type {SearchStrategy} from './strategy.js';

export function randomSearch(space: SearchSpace, rng: Random, batchSize: number): SearchStrategy {
  return {
    async iterate(ledger: EvaluationLedger, remainingBudget: number) {
      const want = Math.min(batchSize, remainingBudget, space.size - ledger.count);
      const batch = new Map<string, number[]>();
      // Rejection sampling; the attempt cap only matters when few configurations are left unseen.
      for (let attempt = 0; batch.size < want && attempt < want * 64; attempt++) {
        const config = space.candidates.map((list) => rng.int(list.length));
        if (ledger.get(config) === undefined) batch.set(configId(config), config);
      }
      await ledger.evaluate([...batch.values()]);
      return ledger.count < space.size;
    },
    save: () => null,
  };
}
