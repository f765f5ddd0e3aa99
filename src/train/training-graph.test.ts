// Whole-model check: the training graph of axx's ViT gives PyTorch's loss and gradients for the
// same weights and batch. Reference: test/fixtures/train/vit-torch-gradients.json, produced in
// float64 by scripts/train-fixtures/vit_torch_gradients.py. axx runs in float32, so the stated
// tolerance is |g_axx − g_torch| ≤ 1e-4·max|g_torch| + 1e-7 per tensor (observed: ≤ 5.1e-7 of max|g|, torch 1.13).
import {readFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import type {Model} from '../onnx/ir.js';
import {buildVit, type VitConfig} from '../models/vit.js';
import {TrainingSession} from './training-session.js';

interface Fixture {
  config: VitConfig;
  input: {dims: number[]; data: number[]};
  labels: number[];
  loss: number;
  params: Record<string, {dims: number[]; data: number[]}>;
  grads: Record<string, number[]>;
}

const fixture = JSON.parse(readFileSync(new URL('../../test/fixtures/train/vit-torch-gradients.json', import.meta.url), 'utf8')) as Fixture;

/** PyTorch layout → axx layout: Linear and patch-conv weights are stored transposed ([in, out]). */
function toAxxLayout(name: string, dims: number[], data: ArrayLike<number>): Float32Array {
  const isMatrix = name.endsWith('.weight') && dims.length >= 2;
  if (!isMatrix) return Float32Array.from(data);
  const rows = dims[0]!;
  const cols = data.length / rows;
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

function withFixtureWeights(model: Model): Model {
  const initializers = model.graph.initializers.map((t) => {
    const reference = fixture.params[t.name];
    if (reference === undefined) return t;
    return {...t, data: toAxxLayout(t.name, reference.dims, reference.data)};
  });
  return {...model, graph: {...model.graph, initializers}};
}

describe('ViT training graph', () => {
  it('matches PyTorch loss and gradients', async () => {
    const model = withFixtureWeights(buildVit(fixture.config));
    const [, ...imageShape] = fixture.input.dims;
    using session = await TrainingSession.create(model, {imageShape});
    expect([...session.paramNames].sort()).toEqual(Object.keys(fixture.params).sort());
    const result = await session.run(Float32Array.from(fixture.input.data), BigInt64Array.from(fixture.labels, BigInt), fixture.labels.length, imageShape);
    expect(Math.abs(result.loss - fixture.loss)).toBeLessThan(1e-5);
    session.paramNames.forEach((name, i) => {
      const expected = toAxxLayout(name, fixture.params[name]!.dims, fixture.grads[name]!);
      const actual = result.grads[i]!;
      const scale = expected.reduce((m, g) => Math.max(m, Math.abs(g)), 0);
      const worst = actual.reduce((m, g, k) => Math.max(m, Math.abs(g - expected[k]!)), 0);
      expect(worst, name).toBeLessThanOrEqual(1e-4 * scale + 1e-7);
    });
  });
});
