// Test support: the shipped MNIST ViT with a calibration and an MNIST test subset on disk (the real
// instance the sensitivity/search tests and bench/search-real.bench.ts run on), and a recording step context.
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {openDataset} from '../../src/data/dataset-reader.js';
import {idxSource} from '../../src/data/idx-source.js';
import {writeSubset} from '../../src/data/write-subset.js';
import {decodeModel} from '../../src/onnx/codec.js';
import type {Model} from '../../src/onnx/ir.js';
import {createSession} from '../../src/onnx/session.js';
import {runCalibration} from '../../src/approx/calibration-run.js';
import type {StepContext, StepKind} from '../../src/engine/step-kind.js';
import {localTasks} from '../../src/engine/tasks.js';
import {NO_TASKS} from './step-context.js';

export const SHIPPED_VIT = fileURLToPath(new URL('../../assets/models/vit-mnist.onnx', import.meta.url));

export interface VitFixture {
  model: string;
  calibration: string;
  /** The first `samples` MNIST test images, preprocessed as the shipped ViT records it expects. */
  dataset: string;
}

/** The normalisation the shipped ViT records in its "axx.input" metadata: raw [0, 1] pixels unless it names mean/std. */
export function shippedVitInput(model: Model): {mean: number; std: number} {
  const recorded = model.metadataProps.find((p) => p.key === 'axx.input')?.value;
  const expected = recorded === undefined ? {} : (JSON.parse(recorded) as {mean?: number[]; std?: number[]});
  return {mean: expected.mean?.[0] ?? 0, std: expected.std?.[0] ?? 1};
}

export async function vitFixture(dir: string, samples: number): Promise<VitFixture> {
  const model = decodeModel(readFileSync(SHIPPED_VIT));
  const {mean, std} = shippedVitInput(model);
  const dataset = join(dir, `mnist-test-${samples}-${mean}-${std}`);
  const calibration = join(dir, `calibration-${mean}-${std}.json`);
  mkdirSync(dir, {recursive: true});
  if (!existsSync(join(dataset, 'manifest.json'))) await writeSubset(dataset, idxSource({dataset: 'mnist', split: 'test', mean, std}), {limit: samples});
  if (!existsSync(calibration)) {
    const set = openDataset(dataset);
    const file = await runCalibration(model, () => set.batches(64, {limit: Math.min(samples, 256)}), {createSession, threads: 2});
    writeFileSync(calibration, JSON.stringify(file));
  }
  return {model: SHIPPED_VIT, calibration, dataset};
}

export interface RecordedContext<P> {
  ctx: StepContext<P>;
  progress: [number, number | undefined][];
  metrics: Record<string, number>;
  logs: string[];
  abort: AbortController;
}

/** A step context over a real scratch dir and (optionally) the engine's memo and checkpoint slot, recording what the step reports. */
export function recordedContext<P>(params: P, scratchDir: string, extra: Partial<Pick<StepContext<P>, 'memo' | 'checkpoint'>> & {kind?: StepKind<P>} = {}): RecordedContext<P> {
  const progress: [number, number | undefined][] = [];
  const metrics: Record<string, number> = {};
  const logs: string[] = [];
  const abort = new AbortController();
  mkdirSync(scratchDir, {recursive: true});
  const ctx: StepContext<P> = {
    params,
    scratchDir,
    progress: (done, total) => void progress.push([done, total]),
    log: (text) => void logs.push(text),
    metric: (name, value) => void (metrics[name] = value),
    checkpoint: extra.checkpoint ?? {save: async () => {}, load: async () => undefined, discard: async () => undefined},
    ...(extra.memo !== undefined ? {memo: extra.memo} : {}),
    // The kind's tasks run in this process, as `axx run` without --redis runs them.
    tasks: extra.kind ? localTasks(extra.kind as StepKind, {cpu: 2}, scratchDir) : NO_TASKS,
    signal: abort.signal,
    hostEnvironment: {},
    resources: {cpu: 2},
  };
  return {ctx, progress, metrics, logs, abort};
}
