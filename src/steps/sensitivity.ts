// Step kind "sensitivity": every selected layer alone on every candidate multiplier, evaluated on a
// fixed data subset (accuracy drop vs the quantised exact model, plus logit KL/MSE vs the float
// model). Cells go through the engine memo keyed by content, so later runs and `search` reuse them.
// What it shares with `search` lives in shared/approximate-evaluation.ts.
import {writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {measureSensitivity, type SensitivityMatrix} from '../approx/search/index.js';
import {sensitivityHeatmapSvg} from '../report/svg/sensitivity-heatmap.js';
import type {ApproximationRuntime} from '../approx/search-runtime/approximation-runtime.js';
import type {Json, StepKind} from '../engine/step-kind.js';
import {asStepError, evaluationKeyExtras, evaluationSchemaProperties, evaluationStore, evaluationTasks, memoisedBaseline, openRuntime, parallelism, PROXIES, TaskEvaluations, warnMissingClasses, type EvaluationParams, type Proxy} from './shared/approximate-evaluation.js';

export interface SensitivityParams extends EvaluationParams {
  proxy: Proxy[];
}

/** The matrix output: the library's matrix plus what reports and search need beside it. */
export interface SensitivityOutput extends SensitivityMatrix {
  samples: number;
  /** How the scored subset was drawn, and its samples per class. */
  sampling: ApproximationRuntime['sampling'] & {labelCounts: number[]};
  macs: Record<string, number>;
  multiplierInfo: {name: string; id: string; powerMw: number | null; exact: boolean}[];
}

export const sensitivityKind: StepKind<SensitivityParams> = {
  name: 'sensitivity',
  version: 1,
  description: 'Per-layer sensitivity: each layer alone on each candidate multiplier, accuracy drop and logit proxies on a fixed subset',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['model', 'calibration', 'dataset', 'multipliers'],
    properties: {
      ...evaluationSchemaProperties,
      proxy: {type: 'array', uniqueItems: true, items: {enum: [...PROXIES]}, default: [...PROXIES], description: 'Proxies kept per cell: logit-kl (KL of softmaxes vs the float model), logit-mse.'},
    },
  },
  outputs: {
    matrix: {type: 'value', format: 'sensitivity', description: 'layers × multipliers: accuracy, drop, proxies; baseline accuracy, MACs per layer, multiplier ids and power'},
    heatmap: {type: 'file', format: 'svg', description: 'the drops as a heatmap'},
  },
  resources: {cpu: 2},
  keyExtras: evaluationKeyExtras,
  tasks: evaluationTasks,
  async run(ctx) {
    const {runtime, options} = await openRuntime(ctx);
    warnMissingClasses(ctx, runtime);
    const store = evaluationStore(ctx.memo);
    const memo = {store, scope: runtime.scope};
    const multipliers = runtime.multipliers.map((m) => ({name: m.name, id: m.id, relativePower: 1, exact: m.id === runtime.exact.id}));
    const evaluations = new TaskEvaluations(ctx, options, multipliers);
    const evaluate = evaluations.of(runtime, runtime);
    try {
      const baseline = await memoisedBaseline(runtime, evaluate, store, multipliers, ctx.signal);
      let worst = 0;
      const matrix = await measureSensitivity({
        layers: runtime.layers,
        multipliers,
        baselineAccuracy: baseline.accuracy,
        ...(baseline.correct !== undefined ? {baselineCorrect: {correct: baseline.correct, samples: runtime.samples}} : {}),
        evaluateCell: (layer, multiplier, signal) => evaluate({[layer]: multiplier}, signal),
        memo,
        parallel: parallelism(ctx),
        signal: ctx.signal,
        onProgress(done, total, cell) {
          worst = Math.max(worst, cell.drop);
          ctx.progress(done, total, 'cell');
          ctx.metric('cells', done);
          ctx.metric('worstDrop', worst);
        },
      });
      const {storeHits, ...measured} = matrix;
      const output: SensitivityOutput = {
        ...measured,
        cells: measured.cells.map((cell) => ({...cell, ...(cell.metrics !== undefined ? {metrics: keep(cell.metrics, ctx.params.proxy)} : {})})),
        samples: runtime.samples,
        sampling: {...runtime.sampling, labelCounts: runtime.labelCounts},
        macs: Object.fromEntries(runtime.layers.map((l) => [l.name, l.macs])),
        multiplierInfo: runtime.multipliers.map((m) => ({name: m.name, id: m.id, powerMw: m.hardware.powerMw, exact: m.id === runtime.exact.id})),
      };
      const heatmap = join(ctx.scratchDir, 'heatmap.svg');
      await writeFile(heatmap, sensitivityHeatmapSvg(output));
      ctx.metric('evaluations', evaluations.ran);
      ctx.log(`${output.cells.length} cells on ${runtime.samples} samples (baseline ${(100 * baseline.accuracy).toFixed(2)}%; ${storeHits} from the memo, ${evaluations.ran} evaluated); worst drop ${(100 * worst).toFixed(2)} points`);
      return {matrix: {value: output as unknown as Json}, heatmap: {file: heatmap}};
    } catch (error) {
      throw asStepError(error);
    }
  },
};

function keep(metrics: Record<string, number>, proxies: readonly Proxy[]): Record<string, number> {
  return Object.fromEntries(proxies.filter((name) => metrics[name] !== undefined).map((name) => [name, metrics[name]!]));
}
