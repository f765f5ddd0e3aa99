import * as ort from 'onnxruntime-node';
import {describe, expect, it} from 'vitest';
import {readModelFile} from '../onnx/codec.js';
import {createSession} from '../onnx/session.js';
import {AbsHistogram, chooseAmax, HISTOGRAM_BINS} from './calibration.js';
import {runCalibration, withOutputs} from './calibration-run.js';
import {parseCalibration} from './calibration-format.js';
import {quantizeValue, quantScale, roundHalfEven} from './quantize.js';
import {randomFloats} from '../../test/support/rewrite-test-models.js';
import {Random} from '../util/random.js';

describe('quantisation', () => {
  it('rounds half to even and saturates to the narrow range', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 2.4999, -2.6].map((x) => roundHalfEven(x) + 0)).toEqual([0, 2, 2, 0, -2, 2, -3]);
    const {step} = quantScale(1);
    expect(quantizeValue(1, step)).toBe(127);
    expect(quantizeValue(-5, step)).toBe(-127);
    expect(quantizeValue(0.5 / 127, step)).toBe(0);
    expect(quantScale(0).amax).toBe(1);
  });
});

describe('AbsHistogram', () => {
  it('keeps every count when its range doubles, and picks percentile / max / mse amax', () => {
    const h = new AbsHistogram();
    const rng = new Random(3);
    const small = randomFloats(rng, 10_000, 0.1);
    h.add(small);
    const wide = Float32Array.from({length: 10}, (_, i) => (i + 1) * 0.5);
    h.add(wide);
    expect(h.total).toBe(10_010);
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(10_010);
    expect(h.max).toBe(5);
    expect(h.range).toBeGreaterThan(5);
    // 99.9 % of the mass is below 0.1: the percentile clips the 10 outliers away
    expect(chooseAmax(h, 'percentile', 99.9)).toBeLessThan(0.11);
    expect(chooseAmax(h, 'max')).toBe(5);
    for (const method of ['mse', 'entropy'] as const) {
      const amax = chooseAmax(h, method);
      expect(amax, method).toBeGreaterThan(0.05);
      expect(amax, method).toBeLessThan(5);
    }
  });

  it('rejects NaN', () => {
    expect(() => new AbsHistogram().add([1, NaN])).toThrow(/NaN/);
  });
});

describe('runCalibration on the shipped ViT', () => {
  it('records every operand of every layer, consistent with the activations onnxruntime computes', async () => {
    const model = readModelFile('assets/models/vit-mnist.onnx');
    const rng = new Random(11);
    const batches = [0, 1].map(() => ({x: Float32Array.from(randomFloats(rng, 4 * 784), (v) => Math.abs(v)), count: 4}));
    const calibration = await runCalibration(model, () => batches, {createSession, method: 'percentile', percentile: 99.99});
    parseCalibration(JSON.parse(JSON.stringify(calibration)), 'calibration.json');
    expect(calibration.samples).toBe(8);
    expect(calibration.layers.map((l) => l.node)).toContain('blocks.0.attn.qkv');
    expect(calibration.layers.find((l) => l.node === 'blocks.0.attn.qk')).toMatchObject({kind: 'activations'});
    const fc1 = calibration.layers.find((l) => l.node === 'blocks.1.mlp.fc1')!;
    const [activation, weight] = fc1.operands;
    expect(calibration.values[weight]!.role).toBe('weight');
    const stats = calibration.values[activation]!;
    expect(stats.histogram.counts).toHaveLength(HISTOGRAM_BINS);
    expect(stats.amax).toBeLessThanOrEqual(stats.max);

    // the recorded max and operand counts match the activation computed directly
    using session = await createSession(withOutputs(model, [activation]));
    let max = 0;
    let elements = 0;
    for (const batch of batches) {
      const out = await session.run({input: new ort.Tensor('float32', batch.x, [4, 1, 28, 28])}, [activation]);
      const data = out[activation]!.data as Float32Array;
      for (const v of data) max = Math.max(max, Math.abs(v));
      elements += data.length;
    }
    expect(stats.max).toBe(max);
    expect(stats.operandCounts.reduce((a, b) => a + b, 0)).toBe(elements);
  });

  it('explains a batch that does not fit the model input', async () => {
    const model = readModelFile('assets/models/vit-mnist.onnx');
    await expect(runCalibration(model, () => [{x: new Float32Array(100), count: 2}], {createSession})).rejects.toThrow(/needs 784 per sample/);
  });
});
