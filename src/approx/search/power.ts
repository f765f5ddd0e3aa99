import type {Assignment, MultiplierCandidate, RelativePower, SearchLayer} from './types.js';

/**
 * TransAxx's power model: Σ_l (MACs_l / MACs_total) · P(mult_l) / P(exact), multipliers only
 * (docs/design.md §3). src/hw/cost.ts offers richer models; the step adapts them to the same signature.
 */
export function macWeightedRelativePower(layers: readonly SearchLayer[], multipliers: readonly MultiplierCandidate[]): RelativePower {
  const totalMacs = layers.reduce((sum, layer) => sum + layer.macs, 0);
  if (!(totalMacs > 0)) throw new Error('power model: the layers hold no MACs; list at least one layer with "macs" > 0');
  const powerByName = new Map(multipliers.map((m) => [m.name, m.relativePower]));
  return (assignment: Assignment) => {
    let sum = 0;
    for (const layer of layers) {
      const name = assignment[layer.name];
      if (name === undefined) throw new Error(`power model: the assignment gives no multiplier for layer ${layer.name}`);
      const power = powerByName.get(name);
      if (power === undefined) throw new Error(`power model: layer ${layer.name} uses unknown multiplier ${name}`);
      sum += (layer.macs / totalMacs) * power;
    }
    return sum;
  };
}
