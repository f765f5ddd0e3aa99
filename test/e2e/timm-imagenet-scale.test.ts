// pipelines/timm-imagenet.yaml at real tensor sizes: a ViT-Ti/16 exported by torch.onnx (5.7 M
// parameters, 224 px, 1000 classes; scripts/fixtures/make_vit_tiny.py) on an ImageNet-layout folder
// of 500×375 JPEGs (scripts/fixtures/imagenet-folder.ts), every step of the template, few images.
import {execFileSync, spawnSync} from 'node:child_process';
import {existsSync, mkdtempSync, readFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {makeImagenetFolder} from '../../scripts/fixtures/imagenet-folder.js';
import {runCli} from '../../src/cli/main.js';
import {removeTree} from '../../src/engine/store/cas.js';
import {captureIo} from './engine-helpers.js';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'axx-scale-'));
const model = join(dir, 'vit_tiny.onnx');
const data = join(dir, 'imagenet');
afterAll(() => removeTree(dir));
// Debian's python3-torch and dataset-fashion-mnist (.ci/run installs both); skipped with vitest's note without them.
const missingTools = spawnSync('/usr/bin/python3', ['-c', 'import torch']).status !== 0 || !existsSync('/usr/share/datasets/fashion-mnist');

beforeAll(async () => {
  if (missingTools) return;
  // Debian's python3-torch exports the model at test time (23 MB: too large to commit).
  execFileSync('/usr/bin/python3', [join(root, 'scripts', 'fixtures', 'make_vit_tiny.py'), model], {stdio: 'pipe'});
  await makeImagenetFolder(data, {classes: 10, trainPerClass: 2, valPerClass: 2});
}, 180_000);

describe.skipIf(missingTools)('timm-imagenet template at ViT-Ti/16 size', () => {
  it('runs every step on 224 px JPEGs and a 1000-class torch export', async () => {
    const params = {
      model,
      data,
      calibrationSamples: '5',
      finetuneSamples: '10',
      evalSamples: '10',
      searchSamples: '10',
      holdoutSamples: '0',
      batchSize: '5',
      layers: "['**/blocks.11/mlp/fc2/**']",
      multipliers: '[mul8s_1L2H]',
      budget: '2',
    };
    const io = captureIo(root);
    const cache = join(dir, 'cache');
    const args = Object.entries(params).flatMap(([name, value]) => ['-p', `${name}=${value}`]);
    const code = await runCli(['run', join('pipelines', 'timm-imagenet.yaml'), '--cache', cache, ...args], io);
    const out = io.stdoutText() + io.stderrText();
    expect(code, out).toBe(0);
    expect(out).toMatch(/passed in [^:]+: 16 ran, 0 cached/);

    const show = captureIo(root);
    expect(await runCli(['show', 'eval-float', '--cache', cache, '--json'], show)).toBe(0);
    expect(show.stdoutText()).toMatch(/"count":\s*10\b/);
    expect(readFileSync(model).length).toBeGreaterThan(20e6);
  }, 600_000);

  it('refuses a transform the model cannot take before decoding any image', async () => {
    const io = captureIo(root);
    const code = await runCli(['run', join('pipelines', 'timm-imagenet.yaml'), '--cache', join(dir, 'cache-wrong'), '--only', 'val-images', '-p', `model=${model}`, '-p', `data=${data}`, '-p', 'transform={size: 256}'], io);
    const out = io.stdoutText() + io.stderrText();
    expect(code, out).toBe(1);
    expect(out).toContain('model input "input" has shape [N, 3, 224, 224] but dataset samples are [3, 256, 256]');
  }, 120_000);
});
