// load/model -> load/dataset -> calibrate -> sensitivity -> search -> approximate -> evaluate through
// the engine, on the shipped ViT and 100 MNIST test images; sensitivity runs in a child process, so its
// memo entries travel over the executor's IPC.
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {SHIPPED_VIT, shippedVitInput} from '../support/vit-fixture.js';
import {executors} from '../../src/cli/executors.js';
import type {AxxEvent} from '../../src/engine/events.js';
import {runPipeline, type RunOptions} from '../../src/engine/run-pipeline.js';
import {loadPipeline} from '../../src/engine/spec/load-pipeline.js';
import type {Json, StepKind} from '../../src/engine/step-kind.js';
import {Store} from '../../src/engine/store/store.js';
import {decodeModel} from '../../src/onnx/codec.js';
import {approximateKind} from '../../src/steps/approximate.js';
import {calibrateKind} from '../../src/steps/calibrate.js';
import {stepKinds} from '../../src/steps/index.js';
import type {SearchOutput} from '../../src/steps/search.js';

const dir = mkdtempSync(join(tmpdir(), 'axx-search-e2e-'));
afterAll(() => rmSync(dir, {recursive: true, force: true}));
// calibrate and approximate may not be registered yet; the pipeline needs them either way.
const kinds: StepKind[] = [...stepKinds, ...[calibrateKind, approximateKind].filter((k) => !stepKinds.some((s) => s.name === k.name))];

const {mean, std} = shippedVitInput(decodeModel(readFileSync(SHIPPED_VIT)));
const LAYERS = '[blocks.0.mlp.fc1, blocks.1.attn.qkv, blocks.2.mlp.fc2]';
const pipeline = `
name: search-e2e
steps:
  model: {uses: load/model, with: {path: ${JSON.stringify(SHIPPED_VIT)}}}
  mnist: {uses: load/dataset, with: {source: mnist, split: test, limit: 100, transform: {mean: ${mean}, std: ${std}}}}
  calibrate:
    uses: calibrate
    with:
      model: \${{ steps.model.outputs.model }}
      dataset: \${{ steps.mnist.outputs.dataset }}
      batches: 1
      batchSize: 100
  sensitivity:
    uses: sensitivity
    executor: child-process
    with:
      model: \${{ steps.model.outputs.model }}
      calibration: \${{ steps.calibrate.outputs.calibration }}
      dataset: \${{ steps.mnist.outputs.dataset }}
      multipliers: [mul8s_1L2H, mul8s_1KR3]
      layers: ${LAYERS}
  search:
    uses: search
    with:
      model: \${{ steps.model.outputs.model }}
      calibration: \${{ steps.calibrate.outputs.calibration }}
      dataset: \${{ steps.mnist.outputs.dataset }}
      multipliers: [mul8s_1L2H, mul8s_1KR3]
      layers: ${LAYERS}
      sensitivity: \${{ steps.sensitivity.outputs.matrix }}
      budget: 8
      threshold: 2
      seed: 1
  approximate:
    uses: approximate
    with:
      model: \${{ steps.model.outputs.model }}
      calibration: \${{ steps.calibrate.outputs.calibration }}
      layers: ${LAYERS}
      assign: \${{ steps.search.outputs.assignment }}
  evaluate:
    uses: evaluate
    with:
      model: \${{ steps.approximate.outputs.model }}
      dataset: \${{ steps.mnist.outputs.dataset }}
      batchSize: 100
`;

describe('search pipeline', () => {
  it('runs end to end: the searched assignment approximates to a model scoring what search measured; a rerun is all cached', async () => {
    writeFileSync(join(dir, 'p.yaml'), pipeline);
    const loaded = loadPipeline(join(dir, 'p.yaml'), pipeline, {kinds});
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.error, null, 2));
    using store = Store.open(join(dir, 'cache'));
    const events: AxxEvent[] = [];
    const options: RunOptions = {
      store,
      executors: executors(),
      defaultExecutor: 'in-process',
      emit: (e) => events.push(e),
      hostEnvironment: {},
      signal: new AbortController().signal,
      concurrency: 2,
      budget: {cpu: 2},
      command: 'axx run p.yaml',
    };
    const summary = await runPipeline(loaded.value, options);
    const failures = events.filter((e) => e.type === 'failure');
    expect(failures).toEqual([]);
    expect(summary.reason).toBe('passed');
    const value = (instance: string, output: string): Json => {
      const record = summary.results.get(instance)!.outputs[output]!;
      if (record.type !== 'value') throw new Error(`${instance}.${output} is a ${record.type}`);
      return record.value;
    };
    const search = value('search', 'result') as unknown as SearchOutput;
    const metrics = value('evaluate', 'metrics') as {top1: number};
    expect(search.best).toBeDefined();
    expect(metrics.top1).toBe(search.best!.accuracy);
    expect(search.baselineAccuracy - metrics.top1).toBeLessThanOrEqual(0.02);
    // Sensitivity's 6 cells and baseline went into the memo (from the child process); search added its own.
    expect(store.memo.count('approx/search:')).toBeGreaterThanOrEqual(7);
    const searchRun = events.find((e): e is Extract<AxxEvent, {type: 'step-metric'}> => e.type === 'step-metric' && e.step.id === 'search' && e.name === 'evaluationsRun');
    // The baseline and every single-layer configuration come from sensitivity's memo entries.
    const multiLayer = search.points.filter((p) => Object.values(p.assignment).filter((m) => m !== 'mul8s_1KV8').length > 1);
    expect(searchRun!.value).toBe(multiLayer.length);

    const again = await runPipeline(loaded.value, options);
    expect(again.counts).toMatchObject({ran: 0, cached: 7});
  }, 60_000);
});
