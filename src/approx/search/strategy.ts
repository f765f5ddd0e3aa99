import type {EvaluationLedger} from './ledger.js';
import type {Config} from './space.js';
import type {Json} from './types.js';

/** One search method. Its course must depend only on the seed, its own state and the ledger, so checkpoints resume exactly. */
export interface SearchStrategy {
  /** One iteration (usually one batch of evaluations); false once the method has nothing left to try. */
  iterate(ledger: EvaluationLedger, remainingBudget: number): Promise<boolean>;
  /** State beyond the ledger and the RNG, for checkpoints. */
  save(): Json;
  /** The method's own final answer besides the best feasible point (MCTS: the greedy path). */
  finalConfig?(): Config | undefined;
}
