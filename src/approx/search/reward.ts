// The reward MCTS backs up, in [0, 1] so UCT's exploration constant keeps its usual scale.
//
//   s = (1 − relativePower) / maxSaving          power saving, normalised by the largest saving possible
//   feasible (drop <= threshold):   r = s
//   infeasible:                      r = λ · s · max(0, 1 − violation / width)
//
// Why not 0 (or a flat penalty) for infeasible points: the optimum sits on the feasibility boundary,
// and a configuration that just misses the threshold with a large saving says "this subtree holds big
// feasible savings one layer away". Grading by the violation keeps that signal, λ < 1 keeps any such
// point below a feasible point of the same saving, and far violations (>= width) earn nothing.

export interface RewardShape {
  /** λ: weight of an infeasible point relative to a feasible one with the same saving. */
  infeasibleWeight: number;
  /** Violation (accuracy units) at which an infeasible point earns nothing; default: the threshold itself. */
  violationWidth?: number;
}

export const DEFAULT_REWARD: RewardShape = {infeasibleWeight: 0.5};

export interface RewardContext {
  maxAccuracyDrop: number;
  maxSaving: number;
}

export function reward(point: {drop: number; relativePower: number}, context: RewardContext, shape: RewardShape = DEFAULT_REWARD): number {
  const saving = context.maxSaving > 0 ? Math.max(0, 1 - point.relativePower) / context.maxSaving : 0;
  const violation = point.drop - context.maxAccuracyDrop;
  if (violation <= 0) return saving;
  const width = shape.violationWidth ?? context.maxAccuracyDrop;
  if (!(width > 0)) return 0;
  return shape.infeasibleWeight * saving * Math.max(0, 1 - violation / width);
}
