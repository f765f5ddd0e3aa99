// UCT (Kocsis & Szepesvári): mean reward plus c·sqrt(ln N_parent / N_child). TransAxx uses
// c = 1/(2√2), the value for rewards in [0, 1]; reward.ts keeps rewards there.

export const DEFAULT_EXPLORATION = 1 / (2 * Math.SQRT2);

/** Visits include virtual losses (pending evaluations count as visits with reward 0). */
export function uctScore(totalReward: number, visits: number, parentVisits: number, exploration: number): number {
  if (visits === 0) return Infinity;
  return totalReward / visits + exploration * Math.sqrt(Math.log(Math.max(1, parentVisits)) / visits);
}
