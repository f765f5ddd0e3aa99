// pipelines/timm-imagenet.yaml, the template for a user's own model and data, runs end to end when its
// params point at a torch-exported ViT (the tiny opset-17 fixture) and a small ImageNet-layout folder.
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {PNG} from 'pngjs';
import {afterAll, describe, expect, it} from 'vitest';
import {runCli} from '../../src/cli/main.js';
import {removeTree} from '../../src/engine/store/cas.js';
import {Random} from '../../src/util/random.js';
import {captureIo} from './engine-helpers.js';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'axx-template-'));
afterAll(() => removeTree(dir));

/** <dir>/images/{train,val}/c<k>/<i>.png: 10 classes of noisy 16×16 grey images. */
function imageFolder(perClass: number): string {
  const random = new Random(1);
  const data = join(dir, 'images');
  for (const split of ['train', 'val']) {
    for (let k = 0; k < 10; k++) {
      const classDir = join(data, split, `c${k}`);
      mkdirSync(classDir, {recursive: true});
      for (let i = 0; i < perClass; i++) {
        const png = new PNG({width: 16, height: 16, colorType: 0});
        for (let p = 0; p < 256; p++) png.data.fill(Math.floor(random.next() * 256), p * 4, p * 4 + 3).fill(255, p * 4 + 3, p * 4 + 4);
        writeFileSync(join(classDir, `${i}.png`), PNG.sync.write(png, {colorType: 0}));
      }
    }
  }
  return data;
}

describe('timm-imagenet template', () => {
  it('runs on a torch-exported ViT and an image folder through -p overrides', async () => {
    const params = {
      model: join(root, 'test', 'fixtures', 'onnx', 'tiny-vit-opset17.onnx'),
      data: imageFolder(4),
      transform: '{size: 16, cropPct: 1, channels: 1, mean: [0.5], std: [0.5]}',
      calibrationSamples: '20',
      finetuneSamples: '40',
      evalSamples: '40',
      searchSamples: '40',
      holdoutSamples: '0',
      batchSize: '20',
      layers: "['**/attn/qkv/**', '**/fc1/**', '**/fc2/**']",
      multipliers: '[mul8s_1L2H, mul8s_1KR3]',
      budget: '6',
    };
    const io = captureIo(root);
    const args = Object.entries(params).flatMap(([name, value]) => ['-p', `${name}=${value}`]);
    const code = await runCli(['run', join('pipelines', 'timm-imagenet.yaml'), '--cache', join(dir, 'cache'), ...args], io);
    const out = io.stdoutText() + io.stderrText();
    expect(code, out).toBe(0);
    expect(out).toMatch(/passed in [^:]+: 16 ran, 0 cached/);
  }, 90_000);
});
