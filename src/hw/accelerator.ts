// Costs one approximate network on the accelerator template: the chosen cost model's relative power,
// per-layer and per-multiplier figures (tabulated next to synthesised), the PE array's RTL and area.
// Pipeline-free: the `synthesize` step only adapts parameters and outputs around `costAccelerator`.
import type {Multiplier} from '../approx/multiplier.js';
import type {Dataflow, OperandHistograms} from './activity.js';
import {
  dataAwarePowerModel,
  energyModel,
  macWeightedPowerModel,
  type EnergyBreakdown,
  type EnergyModel,
  type LayerAssignment,
  type PowerModel,
} from './cost.js';
import type {FigureMemo} from './figure-memo.js';
import {tabulatedFigures, tabulatedSource, type CircuitFigures, type FigureSource} from './figures.js';
import {measureAccumulator, measureCircuit, measureLayerPower, synthesiseLibrary, type AccumulatorFigures, type SynthesisedLibrary} from './measure.js';
import {simulateTable} from './simulate.js';
import {INSTALL_HINT, type HwTools} from './tools.js';
import {macArrayRtl, PE_MODULE, type ArrayTemplate, type MacArrayRtl} from './verilog/mac-array.js';
import {exactMultiplierRtl} from './verilog/matrix-multiplier.js';
import {multiplierRtl} from './verilog/multiplier-rtl.js';
import type {RtlModule} from './verilog/rtl.js';
import {HwError} from './hw-error.js';

export type CostModelName = 'mac-weighted' | 'energy' | 'data-aware';
export type FigureChoice = 'auto' | 'tabulated' | 'synthesised';

export interface AcceleratorTemplate extends ArrayTemplate {
  clockMHz: number;
  dataflow: Dataflow;
}

export interface AcceleratorRequest {
  layers: readonly LayerAssignment[];
  template: AcceleratorTemplate;
  costModel: CostModelName;
  figures: FigureChoice;
  /** The multiplier library's exact circuits (mul8s_1KV8, mul8u_1JFF): reference for tabulated figures. */
  exactReferences: {signed: Multiplier; unsigned: Multiplier};
  /** Operand histograms per layer (data-aware model). */
  histograms?: ReadonlyMap<string, OperandHistograms>;
  netlists?: Readonly<Record<string, string>>;
  /** Where synthesis and power results are memoised (a step's memo). */
  memo?: FigureMemo;
  signal?: AbortSignal;
  log?: (text: string) => void;
}

type RelativeFigures = CircuitFigures & {relativePower: number | null; relativeArea: number | null};

export interface AcceleratorReport {
  costModel: {name: CostModelName; description: string; figures: string};
  relativePower: number;
  savingPercent: number;
  totalMacs: number;
  energy?: EnergyBreakdown & {clockMHz: number; accumulator: AccumulatorFigures | null};
  array?: {
    rows: number;
    cols: number;
    accWidth: number;
    technology: string;
    peAreaUm2: number;
    arrayAreaUm2: number;
    exactPeAreaUm2: number;
    exactArrayAreaUm2: number;
    areaSavingPercent: number;
  };
  groups: {select: number; multiplier: string; layers: string[]}[];
  layers: {layer: string; macs: number; macShare: number; multiplier: string; multiplierId: string; relativePower: number}[];
  multipliers: {name: string; id: string; tabulated?: RelativeFigures; synthesised?: RelativeFigures}[];
  exactReferences: {tabulated: {signed: CircuitFigures; unsigned: CircuitFigures}; synthesised?: {signed: CircuitFigures; unsigned: CircuitFigures}};
  tools: {yosys: string | null; sta: string | null; liberty: string | null; notes: string[]};
}

export interface AcceleratorResult {
  report: AcceleratorReport;
  /** Present when every multiplier has RTL (generated, exact, or a netlist was given). */
  rtl?: MacArrayRtl;
}

export async function costAccelerator(request: AcceleratorRequest, tools: HwTools): Promise<AcceleratorResult> {
  const log = request.log ?? (() => {});
  const notes: string[] = [];
  const {template} = request;
  const measure = {clockMHz: template.clockMHz, memo: request.memo, netlists: request.netlists, signal: request.signal};
  const distinct = distinctMultipliers(request.layers);

  // RTL for every circuit we can describe; the others (EvoApprox without a netlist) keep tabulated figures only.
  const rtlById = new Map<string, RtlModule>();
  for (const multiplier of distinct) {
    let rtl: RtlModule;
    try {
      rtl = await multiplierRtl(multiplier, request.netlists);
    } catch (error) {
      notes.push((error as Error).message);
      continue;
    }
    await verifyRtl(rtl, multiplier, tools, notes, request.signal);
    rtlById.set(multiplier.id, rtl);
  }

  let library: SynthesisedLibrary | undefined;
  if (tools.yosys === undefined) {
    notes.push(`Yosys is not installed: no synthesis, tabulated figures only (${INSTALL_HINT})`);
  } else {
    log(`synthesising ${rtlById.size} multiplier(s) with ${tools.yosys.version}`);
    library = await synthesiseLibrary(distinct.filter((m) => rtlById.has(m.id)), tools, measure);
    if (tools.liberty === undefined) notes.push('no Liberty file (qflow-tech-osu018): transistor counts only, no area or power');
    else if (tools.sta === undefined) notes.push('OpenSTA (sta) is not installed: synthesised area only, no synthesised power');
  }

  const tabulated = tabulatedSource(request.exactReferences.signed, request.exactReferences.unsigned);
  const source = chooseSource(request.figures, distinct, tabulated, library);
  const accumulator =
    request.costModel === 'energy' && library !== undefined && tools.sta !== undefined
      ? await measureAccumulator(template.accWidth, tools, measure)
      : null;
  if (request.costModel === 'energy' && accumulator === null) notes.push('accumulator not synthesised: energy covers multipliers only');
  const model = await buildModel(request, source, library, accumulator, tools, measure);

  const relativePower = model.relativePower(request.layers);
  const totalMacs = request.layers.reduce((sum, layer) => sum + layer.macs, 0);
  const groups = distinct.map((multiplier, select) => ({
    select,
    multiplier: multiplier.name,
    layers: request.layers.filter((layer) => layer.multiplier.id === multiplier.id).map((layer) => layer.layer),
  }));
  const rtl = distinct.every((m) => rtlById.has(m.id)) ? macArrayRtl(template, distinct.map((m) => rtlById.get(m.id) as RtlModule)) : undefined;
  if (rtl === undefined) notes.push('MAC array RTL not emitted: some multipliers have no RTL (give their netlists)');

  const report: AcceleratorReport = {
    costModel: {name: request.costModel, description: model.description, figures: source.name},
    relativePower,
    savingPercent: (1 - relativePower) * 100,
    totalMacs,
    groups,
    layers: request.layers.map(({layer, macs, multiplier}) => ({
      layer,
      macs,
      macShare: macs / totalMacs,
      multiplier: multiplier.name,
      multiplierId: multiplier.id,
      relativePower: macs === 0 ? 1 : model.relativePower([{layer, macs, multiplier}]),
    })),
    multipliers: distinct.map((multiplier) => ({
      name: multiplier.name,
      id: multiplier.id,
      ...(multiplier.hardware.powerMw === null ? {} : {tabulated: relativeTo(tabulatedFigures(multiplier), tabulated.exact(multiplier.signed))}),
      ...(library?.circuits.has(multiplier.id)
        ? {synthesised: relativeTo(library.source.figures(multiplier), library.source.exact(multiplier.signed))}
        : {}),
    })),
    exactReferences: {
      tabulated: {signed: tabulated.exact(true), unsigned: tabulated.exact(false)},
      ...(library === undefined ? {} : {synthesised: {signed: library.exact.signed.figures, unsigned: library.exact.unsigned.figures}}),
    },
    tools: {yosys: tools.yosys?.version ?? null, sta: tools.sta?.version ?? null, liberty: tools.liberty?.technology ?? null, notes},
  };
  if (isEnergyModel(model)) report.energy = {...model.energy(request.layers), clockMHz: template.clockMHz, accumulator};
  if (rtl !== undefined && tools.yosys !== undefined && tools.liberty !== undefined) {
    report.array = await arrayArea(template, rtl, distinct, tools, measure);
  }
  return {report, rtl};
}

/** The hardware costed must be the multiplier emulated: simulate all operand pairs and compare with the table. */
async function verifyRtl(rtl: RtlModule, multiplier: Multiplier, tools: HwTools, notes: string[], signal?: AbortSignal): Promise<void> {
  if (tools.iverilog === undefined || tools.vvp === undefined) {
    notes.push(`RTL of ${multiplier.name} not verified against its table (Icarus Verilog not installed)`);
    return;
  }
  const simulated = await simulateTable(rtl, tools, signal);
  for (let index = 0; index < simulated.length; index++) {
    if (simulated[index] !== multiplier.table[index]) {
      throw new HwError(
        `the RTL of ${multiplier.name} does not implement its table: for operand bytes a=${index >> 8}, b=${index & 255} ` +
          `it gives ${simulated[index]}, the table says ${multiplier.table[index]}` +
          (rtl.source.includes('wrapped to axx') ? ' (check the netlist path given for it)' : ''),
      );
    }
  }
}

function isEnergyModel(model: PowerModel): model is EnergyModel {
  return 'energy' in model;
}

function distinctMultipliers(layers: readonly LayerAssignment[]): Multiplier[] {
  const byId = new Map<string, Multiplier>();
  for (const {multiplier} of layers) if (!byId.has(multiplier.id)) byId.set(multiplier.id, multiplier);
  return [...byId.values()];
}

function chooseSource(choice: FigureChoice, multipliers: readonly Multiplier[], tabulated: FigureSource, library: SynthesisedLibrary | undefined): FigureSource {
  const untabulated = multipliers.filter((m) => m.hardware.powerMw === null).map((m) => m.name);
  if (choice === 'tabulated' || (choice === 'auto' && untabulated.length === 0)) {
    if (untabulated.length > 0) throw new HwError(`figures "tabulated": ${untabulated.join(', ')} have no tabulated power; use figures "synthesised"`);
    return tabulated;
  }
  if (library === undefined) {
    throw new HwError(`${untabulated.join(', ') || 'these multipliers'} can only be costed by synthesis, and Yosys is not installed; ${INSTALL_HINT}`);
  }
  const unsynthesised = multipliers.filter((m) => !library.circuits.has(m.id)).map((m) => m.name);
  if (unsynthesised.length > 0) {
    throw new HwError(`synthesised figures need RTL for ${unsynthesised.join(', ')}: give their netlists (netlists: {name: path})`);
  }
  if (library.exact.signed.figures.powerMw === null) throw new HwError(`synthesised power needs OpenSTA and a Liberty file; ${INSTALL_HINT}`);
  return library.source;
}

async function buildModel(
  request: AcceleratorRequest,
  source: FigureSource,
  library: SynthesisedLibrary | undefined,
  accumulator: AccumulatorFigures | null,
  tools: HwTools,
  measure: {clockMHz: number; memo?: FigureMemo; signal?: AbortSignal},
): Promise<PowerModel> {
  switch (request.costModel) {
    case 'mac-weighted':
      return macWeightedPowerModel(source);
    case 'energy':
      return energyModel(source, {clockMHz: request.template.clockMHz, accumulatePj: accumulator?.energyPj ?? 0});
    case 'data-aware': {
      if (library === undefined || tools.sta === undefined) throw new HwError(`the data-aware cost model needs Yosys and OpenSTA; ${INSTALL_HINT}`);
      const histograms = request.histograms;
      if (histograms === undefined) throw new HwError('the data-aware cost model needs operand histograms (with.histograms: a calibration)');
      const layers = request.layers.map(({layer, multiplier}) => {
        const operands = histograms.get(layer);
        if (operands === undefined) throw new HwError(`the calibration has no operand histograms for layer ${layer}`);
        return {layer, histograms: operands, multipliers: [multiplier]};
      });
      return dataAwarePowerModel(await measureLayerPower(layers, library, tools, {...measure, dataflow: request.template.dataflow}));
    }
  }
}

function relativeTo(figures: CircuitFigures, exact: CircuitFigures): RelativeFigures {
  const ratio = (x: number | null, y: number | null): number | null => (x === null || y === null || y === 0 ? null : x / y);
  return {...figures, relativePower: ratio(figures.powerMw, exact.powerMw), relativeArea: ratio(figures.areaUm2, exact.areaUm2)};
}

async function arrayArea(
  template: AcceleratorTemplate,
  rtl: MacArrayRtl,
  multipliers: readonly Multiplier[],
  tools: HwTools,
  measure: {clockMHz: number; memo?: FigureMemo; signal?: AbortSignal},
): Promise<NonNullable<AcceleratorReport['array']>> {
  const peArea = async (array: MacArrayRtl): Promise<{area: number; technology: string}> => {
    // The PE plus the multiplier modules it instantiates, synthesised as one design.
    const pe: RtlModule = {...array.pe, source: Object.entries(array.files).filter(([file]) => file !== 'axx_mac_array.v').map(([, text]) => text).join('\n')};
    const figures = (await measureCircuit(pe, {name: PE_MODULE, id: PE_MODULE}, {...tools, sta: undefined}, measure)).figures;
    return {area: figures.areaUm2 ?? 0, technology: figures.technology};
  };
  const kinds = [...new Set(multipliers.map((m) => m.signed))];
  const exactArray = macArrayRtl(template, kinds.map((signed) => exactMultiplierRtl(signed ? 'axx_exact8s' : 'axx_exact8u', signed)));
  const approximate = await peArea(rtl);
  const exact = await peArea(exactArray);
  const pes = template.rows * template.cols;
  return {
    rows: template.rows,
    cols: template.cols,
    accWidth: template.accWidth,
    technology: approximate.technology,
    peAreaUm2: approximate.area,
    arrayAreaUm2: approximate.area * pes,
    exactPeAreaUm2: exact.area,
    exactArrayAreaUm2: exact.area * pes,
    areaSavingPercent: (1 - approximate.area / exact.area) * 100,
  };
}
