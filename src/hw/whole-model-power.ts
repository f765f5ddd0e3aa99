// The power of every multiply of a model, not only the approximated layers': the layers left exact (the
// patch embedding, the head, attention products …) do their MACs at exact power. A headline saving that
// counts only the approximated layers overstates what the accelerator saves.

export interface WholeModelPower {
  totalMacs: number;
  approximatedMacs: number;
  /** Σ over all MACs of P/P_exact, divided by all MACs. */
  relativePower: number;
  savingPercent: number;
}

/**
 * `layers`: the approximated layers with their MACs and relative power; `totalMacs`: every approximable
 * multiply of the model (the approximate step's manifest `macs.total`). Undefined when the layers hold
 * more MACs than the total (the two describe different models).
 */
export function wholeModelPower(layers: readonly {macs: number; relativePower: number}[], totalMacs: number): WholeModelPower | undefined {
  const approximatedMacs = layers.reduce((sum, l) => sum + l.macs, 0);
  if (!(totalMacs > 0) || approximatedMacs > totalMacs) return undefined;
  const weighted = layers.reduce((sum, l) => sum + l.macs * l.relativePower, 0);
  const relativePower = (weighted + (totalMacs - approximatedMacs)) / totalMacs;
  return {totalMacs, approximatedMacs, relativePower, savingPercent: 100 * (1 - relativePower)};
}
