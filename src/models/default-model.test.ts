// The shipped default model (assets/models/vit-mnist.onnx) on the MNIST test split exactly as
// `load/dataset` prepares it by default: the accuracy recorded in vit-mnist.json, at least 97%.
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import type {StepContext} from '../engine/step-kind.js';
import {readModelFile} from '../onnx/codec.js';
import {loadDatasetKind, type LoadDatasetParams} from '../steps/load-dataset.js';
import {topOneAccuracy} from '../train/accuracy.js';
import {loadDatasetImages} from '../train/dataset-images.js';
import {NO_TASKS} from '../../test/support/step-context.js';

const assets = new URL('../../assets/models/', import.meta.url);

describe('assets/models/vit-mnist.onnx', () => {
  it('has the recorded MNIST test accuracy on load/dataset output', async () => {
    const info = JSON.parse(readFileSync(new URL('vit-mnist.json', assets), 'utf8')) as {testTop1: number; input: {preprocessing: unknown}};
    const model = readModelFile(new URL('vit-mnist.onnx', assets).pathname);
    expect(JSON.parse(model.metadataProps.find((m) => m.key === 'axx.input')!.value)).toEqual(info.input.preprocessing);

    const scratchDir = mkdtempSync(join(tmpdir(), 'axx-default-model-'));
    try {
      const ctx: StepContext<LoadDatasetParams> = {
        params: {source: 'mnist', split: 'test', order: 'file', seed: 0, keys: {x: 'x', y: 'y'}},
        scratchDir, progress: () => {}, log: () => {}, metric: () => {},
        checkpoint: {save: async () => {}, load: async () => undefined, discard: async () => undefined},
        signal: new AbortController().signal, hostEnvironment: {}, resources: {cpu: 1}, tasks: NO_TASKS,
      };
      const out = await loadDatasetKind.run(ctx);
      const test = loadDatasetImages((out['dataset'] as {dir: string}).dir);
      expect(test.manifest.preprocessing).toEqual(info.input.preprocessing);
      const accuracy = await topOneAccuracy(model, test, {threads: 2});
      expect(accuracy).toBe(info.testTop1);
      expect(accuracy).toBeGreaterThanOrEqual(0.97);
    } finally {
      rmSync(scratchDir, {recursive: true, force: true});
    }
  });
});
