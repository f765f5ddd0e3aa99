import {describe, expect, it} from 'vitest';
import {AdamW, clipGradNorm, defaultDecayMask, Sgd} from './optim.js';
import {learningRate} from './schedule.js';

describe('AdamW', () => {
  it('follows the torch.optim.AdamW update for two steps', () => {
    const w = Float32Array.of(1, -2);
    const opt = new AdamW([2], {weightDecay: 0.1, decay: [true]});
    opt.step([w], [Float32Array.of(0.5, -1)], 0.1);
    // Step 1: m̂ = g, v̂ = g² → update = lr·g/|g| = ±0.1; decay shrinks by 1 − lr·wd = 0.99.
    expect(w[0]).toBeCloseTo(1 * 0.99 - 0.1, 6);
    expect(w[1]).toBeCloseTo(-2 * 0.99 + 0.1, 6);
    const w0 = w[0]!;
    opt.step([w], [Float32Array.of(0.5, -1)], 0.1);
    // Constant gradient: m̂ = g and v̂ = g² again, so the step is again lr·sign(g) (up to eps).
    expect(w[0]).toBeCloseTo(w0 * 0.99 - 0.1, 6);
  });

  it('restores its state exactly', () => {
    const a = new AdamW([3], {weightDecay: 0, decay: [false]});
    const wa = Float32Array.of(1, 2, 3);
    a.step([wa], [Float32Array.of(1, 1, 1)], 0.01);
    const b = new AdamW([3], {weightDecay: 0, decay: [false]});
    b.restore(a.state());
    const wb = wa.slice();
    a.step([wa], [Float32Array.of(0.3, -1, 2)], 0.01);
    b.step([wb], [Float32Array.of(0.3, -1, 2)], 0.01);
    expect(wb).toEqual(wa);
  });
});

describe('SGD', () => {
  it('applies momentum and L2 decay as torch.optim.SGD', () => {
    const w = Float32Array.of(1);
    const opt = new Sgd([1], {momentum: 0.9, weightDecay: 0.5, decay: [true]});
    opt.step([w], [Float32Array.of(2)], 0.1); // g' = 2 + 0.5 = 2.5, v = 2.5, w = 0.75
    expect(w[0]).toBeCloseTo(0.75, 6);
    opt.step([w], [Float32Array.of(2)], 0.1); // g' = 2.375, v = 0.9·2.5 + 2.375 = 4.625
    expect(w[0]).toBeCloseTo(0.75 - 0.4625, 6);
  });
});

describe('helpers', () => {
  it('clips the global gradient norm', () => {
    const grads = [Float32Array.of(3), Float32Array.of(4)];
    expect(clipGradNorm(grads, 1)).toBeCloseTo(5, 6);
    expect(grads[0]![0]).toBeCloseTo(0.6, 5);
    expect(grads[1]![0]).toBeCloseTo(0.8, 5);
  });

  it('does not decay biases, norms and embeddings', () => {
    expect(defaultDecayMask(['blocks.0.attn.qkv.weight', 'blocks.0.attn.qkv.bias', 'pos_embed', 'cls_token', 'conv1.weight'], [[4, 4], [4], [1, 5, 4], [1, 1, 4], [2, 1, 3, 3]]))
      .toEqual([true, false, false, false, true]);
  });

  it('warms up linearly and decays by cosine', () => {
    const s = {kind: 'cosine' as const, lr: 1, totalSteps: 110, warmupSteps: 10};
    expect(learningRate(s, 0)).toBeCloseTo(0.1);
    expect(learningRate(s, 9)).toBeCloseTo(1);
    expect(learningRate(s, 60)).toBeCloseTo(0.5);
    expect(learningRate(s, 110)).toBeCloseTo(0);
    const oneCycle = {kind: 'onecycle' as const, lr: 1, totalSteps: 100, warmupSteps: 30};
    expect(learningRate(oneCycle, 0)).toBeGreaterThan(0.04);
    expect(learningRate(oneCycle, 99)).toBeLessThan(0.01);
    expect(learningRate({kind: 'constant', lr: 0.5, totalSteps: 10, warmupSteps: 0}, 7)).toBe(0.5);
  });
});
