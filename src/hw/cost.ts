// Cost models behind one interface, so `search` can swap TransAxx's model for richer ones unchanged.
//
//   const model = macWeightedPowerModel(tabulatedSource(resolveMultiplier('mul8s_1KV8'), resolveMultiplier('mul8u_1JFF')));
//   model.relativePower([{layer: 'blocks.0.mlp.fc1', macs: 1e6, multiplier: resolveMultiplier('mul8s_1L2H')}]); // 0.708
//
// Every model answers "power (or energy) of the network's multiply work relative to the same network on
// the exact multiplier": 1 = no saving, 0.7 = 30 % saved. Relative figures are what make EvoApprox's
// 45 nm numbers and axx's synthesised 0.18 um numbers comparable at all.
import type {Multiplier} from '../approx/multiplier.js';
import type {FigureSource} from './figures.js';
import {HwError} from './hw-error.js';

export interface LayerAssignment {
  layer: string;
  /** Multiply-accumulates of this layer per inference. */
  macs: number;
  multiplier: Multiplier;
}

export interface PowerModel {
  /** "mac-weighted" | "energy" | "data-aware". */
  name: string;
  /** One line for reports: what is summed, which figures, which technology. */
  description: string;
  /** Relative to every layer on the exact multiplier of the same operand kind (1 = no saving). Synchronous and cheap: search calls it per candidate. */
  relativePower(assignment: readonly LayerAssignment[]): number;
}

/**
 * (1) TransAxx: Σ_l (MACs_l / MACs_total) · P(mult_l) / P(exact), multipliers only.
 * With EvoApprox figures: exact signed mul8s_1KV8 0.425 mW, mul8s_1L2H 0.301 mW -> 0.708.
 */
export function macWeightedPowerModel(source: FigureSource): PowerModel {
  return {
    name: 'mac-weighted',
    description: `Σ MAC share × P(multiplier)/P(exact), multipliers only; ${source.name}`,
    relativePower(assignment) {
      const total = totalMacs(assignment);
      let sum = 0;
      for (const {macs, multiplier} of assignment) {
        sum += (macs / total) * (powerOf(source, multiplier) / exactPower(source, multiplier.signed));
      }
      return sum;
    },
  };
}

export interface EnergyBreakdown {
  /** Energy per inference in µJ: Σ MACs × (multiplier energy + accumulate energy). */
  totalUj: number;
  multiplyUj: number;
  accumulateUj: number;
  /** The same network on the exact multiplier(s). */
  exactUj: number;
}

export interface EnergyModel extends PowerModel {
  energy(assignment: readonly LayerAssignment[]): EnergyBreakdown;
}

export interface EnergyOptions {
  /** One multiplication per cycle at this clock: energy per operation = power / clock. */
  clockMHz: number;
  /** Energy of one accumulation (adder + register of the PE), pJ; 0 if unknown (stated in the description). */
  accumulatePj: number;
}

/**
 * (2) Energy per inference Σ MACs × (E_mult + E_acc), E = P / f for circuits whose power is stated at one
 * operation per cycle. Relative value = energy / energy with exact multipliers, so the accumulator's
 * share dilutes the multiplier saving as it does in silicon.
 */
export function energyModel(source: FigureSource, options: EnergyOptions): EnergyModel {
  if (!(options.clockMHz > 0)) throw new HwError(`energy model: clockMHz must be > 0, got ${options.clockMHz}`);
  const picojoules = (powerMw: number): number => (powerMw / options.clockMHz) * 1e3; // mW / MHz = nJ
  const energy = (assignment: readonly LayerAssignment[]): EnergyBreakdown => {
    totalMacs(assignment);
    let multiplyPj = 0;
    let exactPj = 0;
    let accumulatePj = 0;
    for (const {macs, multiplier} of assignment) {
      multiplyPj += macs * picojoules(powerOf(source, multiplier));
      exactPj += macs * picojoules(exactPower(source, multiplier.signed));
      accumulatePj += macs * options.accumulatePj;
    }
    return {
      totalUj: (multiplyPj + accumulatePj) * 1e-6,
      multiplyUj: multiplyPj * 1e-6,
      accumulateUj: accumulatePj * 1e-6,
      exactUj: (exactPj + accumulatePj) * 1e-6,
    };
  };
  return {
    name: 'energy',
    description:
      `Σ MACs × (multiplier + accumulate energy) at ${options.clockMHz} MHz; ${source.name}` +
      (options.accumulatePj === 0 ? '; accumulator energy unknown (0)' : `; accumulate ${options.accumulatePj.toPrecision(3)} pJ`),
    energy,
    relativePower(assignment) {
      const {totalUj, exactUj} = energy(assignment);
      return totalUj / exactUj;
    },
  };
}

/** Power of each candidate multiplier measured per layer under that layer's operand activity. */
export interface LayerPowerTable {
  /** layer -> multiplier id -> mW */
  byLayer: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** layer -> mW of the exact multiplier of the layer's operand kind under the same activity. */
  exactByLayer: ReadonlyMap<string, number>;
  /** e.g. "OpenSTA 2.0.17, osu018, 100 MHz, activity from calibration histograms". */
  source: string;
}

/**
 * (3) Data-aware: Σ_l MACs_l · P_l(mult_l) / Σ_l MACs_l · P_l(exact), where P_l is the netlist's power
 * with the switching activity of layer l's real operands (see activity.ts, measuredLayerPower).
 */
export function dataAwarePowerModel(table: LayerPowerTable): PowerModel {
  const lookup = (layer: string, multiplier: Multiplier): {power: number; exact: number} => {
    const power = table.byLayer.get(layer)?.get(multiplier.id);
    const exact = table.exactByLayer.get(layer);
    if (power === undefined || exact === undefined) {
      throw new HwError(`data-aware power: no measurement for layer ${layer} with ${multiplier.name}; include both in the candidates`);
    }
    return {power, exact};
  };
  return {
    name: 'data-aware',
    description: `Σ MACs × P_layer(multiplier) / Σ MACs × P_layer(exact), operand activity per layer; ${table.source}`,
    relativePower(assignment) {
      totalMacs(assignment);
      let approximate = 0;
      let exact = 0;
      for (const {layer, macs, multiplier} of assignment) {
        const measured = lookup(layer, multiplier);
        approximate += macs * measured.power;
        exact += macs * measured.exact;
      }
      return approximate / exact;
    },
  };
}

function totalMacs(assignment: readonly LayerAssignment[]): number {
  if (assignment.length === 0) throw new HwError('cost model: the assignment lists no layers');
  let total = 0;
  for (const {layer, macs} of assignment) {
    if (!(Number.isFinite(macs) && macs >= 0)) throw new HwError(`cost model: layer ${layer} has MACs ${macs}; expected a non-negative number`);
    total += macs;
  }
  if (total === 0) throw new HwError('cost model: every layer has 0 MACs');
  return total;
}

function powerOf(source: FigureSource, multiplier: Multiplier): number {
  const power = source.figures(multiplier).powerMw;
  if (power === null) throw new HwError(`${source.name} states no power for multiplier ${multiplier.name}`);
  return power;
}

function exactPower(source: FigureSource, signed: boolean): number {
  const exact = source.exact(signed);
  if (exact.powerMw === null || !(exact.powerMw > 0)) {
    throw new HwError(`${source.name} states no power for its exact ${signed ? 'signed' : 'unsigned'} multiplier ${exact.multiplier}`);
  }
  return exact.powerMw;
}
