// Evaluations memoised by content: the same model, data subset and assignment never run twice, within
// a search, across methods, across runs (the step backs the store with the engine cache).
import {createHash} from 'node:crypto';
import type {Assignment, EvaluationOutcome, MultiplierCandidate} from './types.js';

/** Identifies what an accuracy number is about, apart from the assignment. */
export interface EvaluationScope {
  /** Content digest of the model (and its calibration) the assignments are applied to. */
  modelId: string;
  /** Content digest of the evaluation data subset. */
  subsetId: string;
}

export interface EvaluationStore {
  get(key: string): Promise<EvaluationOutcome | undefined>;
  set(key: string, outcome: EvaluationOutcome): Promise<void>;
}

export class InMemoryEvaluationStore implements EvaluationStore {
  readonly #entries = new Map<string, EvaluationOutcome>();

  get size(): number {
    return this.#entries.size;
  }

  async get(key: string): Promise<EvaluationOutcome | undefined> {
    return this.#entries.get(key);
  }

  async set(key: string, outcome: EvaluationOutcome): Promise<void> {
    this.#entries.set(key, outcome);
  }
}

const KEY_VERSION = 1;

/**
 * sha256 of canonical JSON {v, model, subset, assign: sorted [layer, multiplier id] of the approximated
 * layers}. Circuit ids, not names, so a renamed or redefined circuit never reuses a stale entry.
 * Leaving exact layers out makes "layer fc1 on X, everything else exact" one key whether the
 * sensitivity helper or a search asked for it.
 */
export function evaluationKey(scope: EvaluationScope, assignment: Assignment, multipliers: readonly MultiplierCandidate[]): string {
  const byName = new Map(multipliers.map((m) => [m.name, m]));
  const approximated: [string, string][] = [];
  for (const [layer, name] of Object.entries(assignment)) {
    const multiplier = byName.get(name);
    if (multiplier === undefined) throw new Error(`evaluation key: layer ${layer} uses unknown multiplier ${name}`);
    if (!multiplier.exact) approximated.push([layer, multiplier.id]);
  }
  approximated.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const canonical = JSON.stringify({v: KEY_VERSION, model: scope.modelId, subset: scope.subsetId, assign: approximated});
  return createHash('sha256').update(canonical).digest('hex');
}

/** Looks the assignment up in the store, evaluates and stores it on a miss. */
export interface MemoisedEvaluator {
  evaluate(assignment: Assignment, signal: AbortSignal): Promise<EvaluationOutcome>;
  readonly hits: number;
}

export function memoise(
  evaluate: (assignment: Assignment, signal: AbortSignal) => Promise<EvaluationOutcome>,
  memo: {store: EvaluationStore; scope: EvaluationScope; multipliers: readonly MultiplierCandidate[]} | undefined,
): MemoisedEvaluator {
  let hits = 0;
  return {
    get hits() {
      return hits;
    },
    async evaluate(assignment, signal) {
      if (memo === undefined) return checked(await evaluate(assignment, signal));
      const key = evaluationKey(memo.scope, assignment, memo.multipliers);
      const stored = await memo.store.get(key);
      if (stored !== undefined) {
        hits++;
        return stored;
      }
      const outcome = checked(await evaluate(assignment, signal));
      await memo.store.set(key, outcome);
      return outcome;
    },
  };
}

function checked(outcome: EvaluationOutcome): EvaluationOutcome {
  if (typeof outcome?.accuracy !== 'number' || !Number.isFinite(outcome.accuracy)) {
    throw new Error(`evaluate() must resolve to {accuracy: number}, got ${JSON.stringify(outcome)}`);
  }
  return outcome;
}
