// Step kind "synthesize": costs an approximate network on a MAC-array accelerator. Reads the
// `approximate` manifest (per layer: multiplier, MACs), emits the array's Verilog, synthesises the
// multipliers with Yosys when installed, and reports the chosen cost model relative to the exact design.
// Synthesis and power figures are memoised in the engine's memo (the run's cache), keyed by RTL text,
// tool versions and the Liberty file's content.
import {writeFile, mkdir} from 'node:fs/promises';
import {join, resolve} from 'node:path';
import {SIGN_MAGNITUDE_PREFIX} from '../approx/families/sign-magnitude.js';
import {isMultiplierInputError, resolveMultiplier} from '../approx/library.js';
import type {Multiplier} from '../approx/multiplier.js';
import type {Json, StepKind} from '../engine/step-kind.js';
import {StepError} from '../engine/step-kind.js';
import type {AcceleratorTemplate, CostModelName, FigureChoice} from '../hw/accelerator.js';
import {readLayerEntries, readOperandHistograms, type LayerEntry} from '../hw/assignment-input.js';
import type {LayerAssignment} from '../hw/cost.js';
import {HwError} from '../hw/hw-error.js';
import {detectHwTools} from '../hw/tools.js';
import {wholeModelPower} from '../hw/whole-model-power.js';
import {readCalibrationParam} from './shared/step-inputs.js';

export interface SynthesizeParams {
  manifest: unknown;
  template: AcceleratorTemplate;
  costModel: CostModelName;
  figures: FigureChoice;
  histograms?: string;
  netlists: Record<string, string>;
}

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['manifest'],
  properties: {
    manifest: {
      description: "The approximate step's manifest: {layers: [{layer|name|node, macs, multiplier: name | {name, id}}]}; extra fields ignored.",
      'x-axx-input': {type: 'value', format: 'manifest'},
    },
    template: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        rows: {type: 'integer', minimum: 1, maximum: 256, default: 16},
        cols: {type: 'integer', minimum: 1, maximum: 256, default: 16},
        accWidth: {type: 'integer', minimum: 16, maximum: 64, default: 24},
        clockMHz: {type: 'number', exclusiveMinimum: 0, maximum: 10000, default: 100},
        dataflow: {enum: ['output-stationary', 'weight-stationary'], default: 'output-stationary'},
      },
    },
    costModel: {
      enum: ['mac-weighted', 'energy', 'data-aware'],
      default: 'mac-weighted',
      description: 'mac-weighted: TransAxx Σ MAC share × P/P_exact; energy: Σ MACs × (multiplier + accumulate energy); data-aware: power under each layer’s operand activity',
    },
    figures: {
      enum: ['auto', 'tabulated', 'synthesised'],
      default: 'auto',
      description: 'auto: tabulated (EvoApprox PDK45) when every multiplier has them, else synthesised (Yosys + osu018)',
    },
    histograms: {
      description: "Calibration with per-layer operand histograms (the calibrate step's output); required by costModel data-aware.",
      type: 'string',
      'x-axx-input': {type: 'file', format: 'calibration'},
    },
    netlists: {
      type: 'object',
      default: {},
      additionalProperties: {type: 'string', minLength: 1},
      description: 'Verilog netlists of circuits axx does not generate (EvoApprox), by multiplier name: {mul8s_1L2H: path/to/mul8s_1L2H.v}',
    },
  },
} as const;

export const synthesizeKind: StepKind<SynthesizeParams> = {
  name: 'synthesize',
  version: 2,
  description: 'Accelerator cost of an approximate network: MAC-array Verilog, Yosys synthesis, power/energy/area relative to exact',
  schema,
  outputs: {
    summary: {
      type: 'value',
      format: 'hw-summary',
      description: "relative power and savings of the approximated layers, wholeModel (every multiply, the layers left exact at exact power), per-layer and per-multiplier figures",
    },
    verilog: {type: 'dir', format: 'verilog', description: 'RTL of the multipliers, the PE and the MAC array top'},
    report: {type: 'file', format: 'hw-report', description: 'the full report as JSON'},
  },
  async keyExtras(params, key) {
    // Synthesised figures depend on the tools and on the user's netlists, not only on the params.
    const tools = await detectHwTools();
    const netlists: Record<string, string> = {};
    for (const [name, path] of Object.entries(params.netlists).sort(([x], [y]) => x.localeCompare(y))) {
      netlists[name] = await key.digest(resolve(path)).then(({digest}) => digest, () => 'missing');
    }
    return {
      // Names in a hand-written manifest carry no id: key on the circuits they resolve to today.
      multipliers: multiplierIdsOf(params.manifest),
      yosys: tools.yosys?.version ?? null,
      sta: tools.sta?.version ?? null,
      liberty: tools.liberty?.digest ?? null,
      netlists,
    };
  },
  async run(ctx) {
    const {params} = ctx;
    const entries = readEntries(params.manifest);
    const layers = entries.map(resolveLayer);
    const histograms = params.histograms === undefined ? undefined : await loadHistograms(params.histograms, entries);
    const tools = await detectHwTools();
    // The cost models and the Verilog emitters load when a step runs, not when a pipeline is planned.
    const {costAccelerator} = await import('../hw/accelerator.js');
    let result;
    try {
      result = await costAccelerator(
        {
          layers,
          template: params.template,
          costModel: params.costModel,
          figures: params.figures,
          exactReferences: {signed: resolveMultiplier('mul8s_1KV8'), unsigned: resolveMultiplier('mul8u_1JFF')},
          histograms,
          netlists: Object.fromEntries(Object.entries(params.netlists).map(([name, path]) => [name, resolve(path)])),
          memo: ctx.memo,
          signal: ctx.signal,
          log: (text) => ctx.log(text),
        },
        tools,
      );
    } catch (error) {
      if (ctx.signal.aborted || !(error instanceof HwError)) throw error;
      throw new StepError(error.message, 'see the accelerator template, costModel/figures and netlists of this step');
    }
    const {report, rtl} = result;
    for (const note of report.tools.notes) ctx.log(`note: ${note}`, 'stderr');
    // The headline: every multiply of the model, the layers left exact at exact power, beside the approximated layers alone.
    const totalMacs = manifestTotalMacs(params.manifest);
    const wholeModel = totalMacs === undefined ? undefined : wholeModelPower(report.layers, totalMacs);
    ctx.metric('relativePower', report.relativePower);
    ctx.metric('savingPercent', report.savingPercent);
    if (wholeModel !== undefined) {
      ctx.metric('wholeModelSavingPercent', wholeModel.savingPercent);
      ctx.log(
        `power saving ${wholeModel.savingPercent.toFixed(1)}% of the whole model's multiplies ` +
          `(${report.savingPercent.toFixed(1)}% in the approximated layers, ${((100 * wholeModel.approximatedMacs) / wholeModel.totalMacs).toFixed(1)}% of the MACs)`,
      );
    } else {
      ctx.log(`power saving ${report.savingPercent.toFixed(1)}% in the approximated layers (the manifest gives no model total to state the whole model's)`);
    }

    const verilogDir = join(ctx.scratchDir, 'verilog');
    await mkdir(verilogDir, {recursive: true});
    if (rtl !== undefined) {
      for (const [file, text] of Object.entries(rtl.files)) await writeFile(join(verilogDir, file), text);
    }
    await writeFile(join(verilogDir, 'groups.json'), `${JSON.stringify({top: rtl?.top ?? null, select: report.groups}, null, 2)}\n`);
    const reportFile = join(ctx.scratchDir, 'report.json');
    await writeFile(reportFile, `${JSON.stringify(report, null, 2)}\n`);
    const summary = wholeModel === undefined ? report : {...report, wholeModel};
    return {summary: {value: JSON.parse(JSON.stringify(summary)) as Json}, verilog: {dir: verilogDir}, report: {file: reportFile}};
  },
};

/** The approximate step's `macs.total` (every approximable multiply of the model), when the manifest has it. */
function manifestTotalMacs(manifest: unknown): number | undefined {
  const macs = typeof manifest === 'object' && manifest !== null ? (manifest as {macs?: unknown}).macs : undefined;
  const total = typeof macs === 'object' && macs !== null ? (macs as {total?: unknown}).total : undefined;
  return typeof total === 'number' && Number.isFinite(total) ? total : undefined;
}

function multiplierIdsOf(manifest: unknown): Json {
  try {
    return readLayerEntries(manifest, 'with.manifest').map((entry) => resolveLayer(entry).multiplier.id);
  } catch (error) {
    if (error instanceof HwError || error instanceof StepError) return 'unresolved'; // run() reports the problem
    throw error;
  }
}

function readEntries(manifest: unknown): LayerEntry[] {
  try {
    return readLayerEntries(manifest, 'with.manifest');
  } catch (error) {
    if (!(error instanceof HwError)) throw error;
    throw new StepError(error.message, "pass the approximate step's manifest output", 'with.manifest');
  }
}

function resolveLayer(entry: LayerEntry): LayerAssignment {
  let multiplier: Multiplier;
  try {
    multiplier = resolveMultiplier(entry.multiplier);
  } catch (error) {
    if (!isMultiplierInputError(error)) throw error;
    throw new StepError(`layer ${entry.layer}: ${error.message}`, 'run `axx multipliers` to list known names', 'with.manifest', ['multipliers']);
  }
  if (entry.multiplierId !== undefined && entry.multiplierId !== multiplier.id) {
    throw new StepError(
      `layer ${entry.layer}: multiplier ${entry.multiplier} resolves to a different circuit (id ${multiplier.id.slice(0, 12)}) than the manifest recorded (${entry.multiplierId.slice(0, 12)})`,
      'the multiplier library changed since the model was approximated; re-run the approximate step',
      'with.manifest',
    );
  }
  // The manifest records the core circuit; the hardware is the core behind a sign-magnitude wrapper.
  return {layer: entry.layer, macs: entry.macs, multiplier: entry.signMagnitude ? resolveMultiplier(SIGN_MAGNITUDE_PREFIX + multiplier.name) : multiplier};
}

async function loadHistograms(path: string, entries: readonly LayerEntry[]) {
  const calibration = await readCalibrationParam(path, 'with.histograms', 'pass the calibrate step output');
  try {
    return readOperandHistograms(calibration, entries, 'with.histograms');
  } catch (error) {
    if (!(error instanceof HwError)) throw error;
    throw new StepError(error.message, 'calibrate the same model the manifest describes', 'with.histograms');
  }
}
