// Measures circuits with the EDA tools and packages the results for the cost models: a synthesised
// FigureSource (area, transistors, power at uniform activity), per-layer power under each layer's own
// operand activity (data-aware model), and the accumulator's energy per MAC.
import type {Multiplier} from '../approx/multiplier.js';
import {operandActivity, uniformActivity, type Dataflow, type OperandHistograms} from './activity.js';
import type {LayerPowerTable} from './cost.js';
import {measuredSource, type CircuitFigures, type FigureSource} from './figures.js';
import {analysePower} from './opensta.js';
import type {HwTools} from './tools.js';
import {accumulatorRtl} from './verilog/accumulator.js';
import {exactMultiplierRtl} from './verilog/matrix-multiplier.js';
import {multiplierRtl} from './verilog/multiplier-rtl.js';
import type {RtlModule} from './verilog/rtl.js';
import type {FigureMemo} from './figure-memo.js';
import {synthesize} from './yosys.js';

export interface MeasureOptions {
  clockMHz: number;
  /** Where Yosys/OpenSTA results are memoised. */
  memo?: FigureMemo;
  /** Netlist paths of circuits axx does not generate (EvoApprox), by multiplier name. */
  netlists?: Readonly<Record<string, string>>;
  signal?: AbortSignal;
}

export interface MeasuredCircuit {
  figures: CircuitFigures;
  rtl: RtlModule;
  /** Mapped netlist, for further power runs. */
  netlist: string;
}

export async function measureCircuit(
  rtl: RtlModule,
  multiplier: {name: string; id: string},
  tools: HwTools,
  options: MeasureOptions,
): Promise<MeasuredCircuit> {
  const synthesis = await synthesize(rtl, tools, {memo: options.memo, signal: options.signal});
  const mapping = synthesis.cellMapping;
  const power =
    mapping !== undefined && tools.sta !== undefined
      ? await analysePower(mapping.netlist, rtl.name, tools, {
          clockMHz: options.clockMHz,
          inputActivity: uniformActivity(),
          memo: options.memo,
          signal: options.signal,
        })
      : undefined;
  return {
    rtl,
    netlist: mapping?.netlist ?? '',
    figures: {
      multiplier: multiplier.name,
      id: multiplier.id,
      source: 'synthesised',
      technology: mapping?.technology ?? 'generic CMOS gates (Yosys)',
      powerMw: power?.totalMw ?? null,
      areaUm2: mapping?.areaUm2 ?? null,
      delayNs: power?.criticalPathNs ?? null,
      transistors: synthesis.transistors,
    },
  };
}

export interface SynthesisedLibrary {
  source: FigureSource;
  circuits: ReadonlyMap<string, MeasuredCircuit>;
  exact: {signed: MeasuredCircuit; unsigned: MeasuredCircuit};
}

/** Synthesises every multiplier (once per id) plus the exact references, in the same technology. */
export async function synthesiseLibrary(multipliers: readonly Multiplier[], tools: HwTools, options: MeasureOptions): Promise<SynthesisedLibrary> {
  const circuits = new Map<string, MeasuredCircuit>();
  for (const multiplier of multipliers) {
    if (circuits.has(multiplier.id)) continue;
    const rtl = await multiplierRtl(multiplier, options.netlists);
    circuits.set(multiplier.id, await measureCircuit(rtl, multiplier, tools, options));
  }
  const exact = {
    signed: await measureCircuit(exactMultiplierRtl('axx_exact8s', true), {name: 'exact8s', id: 'exact8s'}, tools, options),
    unsigned: await measureCircuit(exactMultiplierRtl('axx_exact8u', false), {name: 'exact8u', id: 'exact8u'}, tools, options),
  };
  const byId = new Map([...circuits].map(([id, circuit]) => [id, circuit.figures]));
  const name = `Yosys + ${exact.signed.figures.technology} (synthesised, uniform operands, ${options.clockMHz} MHz)`;
  return {source: measuredSource(name, byId, {signed: exact.signed.figures, unsigned: exact.unsigned.figures}), circuits, exact};
}

export interface LayerOperands {
  layer: string;
  histograms: OperandHistograms;
  /** The candidate multipliers to measure for this layer (all must be in the synthesised library). */
  multipliers: readonly Multiplier[];
}

/** Power of each candidate under each layer's operand activity: the data-aware model's table. */
export async function measureLayerPower(
  layers: readonly LayerOperands[],
  library: SynthesisedLibrary,
  tools: HwTools,
  options: MeasureOptions & {dataflow: Dataflow},
): Promise<LayerPowerTable> {
  const byLayer = new Map<string, Map<string, number>>();
  const exactByLayer = new Map<string, number>();
  const powerOf = async (circuit: MeasuredCircuit, activity: ReturnType<typeof operandActivity>): Promise<number> =>
    (
      await analysePower(circuit.netlist, circuit.rtl.name, tools, {
        clockMHz: options.clockMHz,
        inputActivity: activity,
        memo: options.memo,
        signal: options.signal,
      })
    ).totalMw;
  for (const {layer, histograms, multipliers} of layers) {
    const activity = operandActivity(histograms, options.dataflow);
    const powers = new Map<string, number>();
    for (const multiplier of multipliers) {
      const circuit = library.circuits.get(multiplier.id);
      if (circuit === undefined) throw new Error(`layer ${layer}: multiplier ${multiplier.name} was not synthesised`);
      powers.set(multiplier.id, await powerOf(circuit, activity));
    }
    byLayer.set(layer, powers);
    const signed = multipliers[0]?.signed ?? true;
    exactByLayer.set(layer, await powerOf(signed ? library.exact.signed : library.exact.unsigned, activity));
  }
  const technology = library.exact.signed.figures.technology;
  return {byLayer, exactByLayer, source: `OpenSTA, ${technology}, ${options.clockMHz} MHz, operand activity from histograms (${options.dataflow})`};
}

export interface AccumulatorFigures {
  accWidth: number;
  areaUm2: number | null;
  transistors: number;
  powerMw: number | null;
  /** Energy of one accumulation at the clock: power / clock. */
  energyPj: number | null;
}

/** The accumulator (adder + register) at uniform input activity. */
export async function measureAccumulator(accWidth: number, tools: HwTools, options: MeasureOptions): Promise<AccumulatorFigures> {
  const rtl = accumulatorRtl(accWidth);
  const synthesis = await synthesize(rtl, tools, {memo: options.memo, signal: options.signal});
  const mapping = synthesis.cellMapping;
  const power =
    mapping !== undefined && tools.sta !== undefined
      ? await analysePower(mapping.netlist, rtl.name, tools, {
          clockMHz: options.clockMHz,
          clockPort: 'clk',
          memo: options.memo,
          signal: options.signal,
        })
      : undefined;
  return {
    accWidth,
    areaUm2: mapping?.areaUm2 ?? null,
    transistors: synthesis.transistors,
    powerMw: power?.totalMw ?? null,
    energyPj: power === undefined ? null : (power.totalMw / options.clockMHz) * 1e3,
  };
}
