// The search problem as the `sensitivity` and `search` steps hand it over: plain names and numbers,
// no ONNX and no pipeline. An evaluation is an injected async function.

/** layer name -> multiplier name: the `assign` map the `approximate` step accepts. */
export type Assignment = Record<string, string>;

export interface MultiplierCandidate {
  name: string;
  /** Stable identity of the circuit (e.g. a digest of its table); memo keys use it, not the name. */
  id: string;
  /** Power relative to the exact multiplier of the same operand kind (exact = 1). */
  relativePower: number;
  /** The exact circuit: memo keys leave layers on it out, so a single-layer sensitivity cell and the same full configuration share one entry. */
  exact?: boolean;
}

export interface SearchLayer {
  name: string;
  /** Multiply-accumulates per inference. */
  macs: number;
  /** Names of the multipliers this layer may use; every multiplier of the problem when omitted. */
  candidates?: readonly string[];
}

/** What one evaluation returns: accuracy plus any extra numeric metrics (loss, logit KL …). */
export interface EvaluationOutcome {
  accuracy: number;
  metrics?: Record<string, number>;
  /** Per-image correctness on the evaluated images, in their order (correctness.ts), for paired tests. */
  correct?: string;
}

export type Evaluate = (assignment: Assignment, signal: AbortSignal) => Promise<EvaluationOutcome>;

/** Relative power of a whole assignment (1 = every layer exact); see power.ts for TransAxx's. */
export type RelativePower = (assignment: Assignment) => number;

/** layer -> multiplier -> predicted accuracy drop of that layer alone on that multiplier (threshold units). */
export type PredictedDrops = Record<string, Record<string, number>>;

export interface SearchProblem {
  layers: readonly SearchLayer[];
  multipliers: readonly MultiplierCandidate[];
  /** Accuracy of the exact (quantized) model on the same data subset the evaluations use. */
  baselineAccuracy: number;
  /** Largest accepted drop `baselineAccuracy − accuracy`, in accuracy units (0.01 = one point on a 0..1 scale). */
  maxAccuracyDrop: number;
  /** Steers the rollout policy and the greedy order; see sensitivity.ts `predictedDrops`. */
  sensitivity?: PredictedDrops;
  evaluate: Evaluate;
  /** Defaults to TransAxx's MAC-weighted model (power.ts). */
  relativePower?: RelativePower;
}

export interface EvaluatedPoint {
  assignment: Assignment;
  accuracy: number;
  /** baselineAccuracy − accuracy */
  drop: number;
  relativePower: number;
  feasible: boolean;
  /** 1-based position in the order the search asked for distinct configurations. */
  order: number;
  metrics?: Record<string, number>;
}

/** JSON-serialisable data (checkpoint states). */
export type Json = null | boolean | number | string | Json[] | {[key: string]: Json};
