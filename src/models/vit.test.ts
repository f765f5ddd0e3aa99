import {describe, expect, it} from 'vitest';
import {buildVit, VIT_DEFAULTS, vitMacs} from './vit.js';
import {buildCnn, CNN_DEFAULTS} from './cnn.js';
import {countParameters} from './layers.js';

describe('buildVit', () => {
  const model = buildVit({...VIT_DEFAULTS, depth: 2});
  const names = new Set(model.graph.initializers.map((t) => t.name));
  const nodeNames = new Set(model.graph.nodes.map((n) => n.name));

  it('uses timm parameter names', () => {
    for (const name of ['patch_embed.proj.weight', 'patch_embed.proj.bias', 'cls_token', 'pos_embed', 'blocks.1.norm1.weight', 'blocks.0.attn.qkv.weight',
      'blocks.0.attn.qkv.bias', 'blocks.0.attn.proj.weight', 'blocks.0.norm2.bias', 'blocks.0.mlp.fc1.weight', 'blocks.1.mlp.fc2.bias', 'norm.weight', 'head.weight', 'head.bias']) {
      expect(names, name).toContain(name);
    }
    expect(names).not.toContain('blocks.2.norm1.weight');
  });

  it('names MatMul nodes by module path', () => {
    const matmuls = model.graph.nodes.filter((n) => n.opType === 'MatMul').map((n) => n.name);
    expect(matmuls).toEqual(expect.arrayContaining(['patch_embed.proj', 'blocks.0.attn.qkv', 'blocks.0.attn.qk', 'blocks.0.attn.av', 'blocks.0.attn.proj', 'blocks.0.mlp.fc1', 'blocks.0.mlp.fc2', 'head']));
    expect(nodeNames.size).toBe(model.graph.nodes.length);
  });

  it('stores Linear weights as [in, out] and counts parameters', () => {
    const qkv = model.graph.initializers.find((t) => t.name === 'blocks.0.attn.qkv.weight')!;
    expect(qkv.dims).toEqual([64, 192]);
    const perBlock = 2 * 64 * 2 + 64 * 192 + 192 + 64 * 64 + 64 + 64 * 128 + 128 + 128 * 64 + 64;
    const expected = 49 * 64 + 64 + 64 + 17 * 64 + 2 * perBlock + 2 * 64 + 64 * 10 + 10;
    expect(countParameters(model)).toBe(expected);
    expect(vitMacs({...VIT_DEFAULTS, depth: 2})).toBeGreaterThan(1e6);
  });

  it('is deterministic in the seed', () => {
    const again = buildVit({...VIT_DEFAULTS, depth: 2});
    const other = buildVit({...VIT_DEFAULTS, depth: 2, seed: 1});
    const weight = (m: typeof model) => m.graph.initializers.find((t) => t.name === 'blocks.0.mlp.fc1.weight')!.data as Float32Array;
    expect(weight(again)).toEqual(weight(model));
    expect(weight(other)).not.toEqual(weight(model));
    const values = Array.from(weight(model));
    expect(Math.max(...values.map(Math.abs))).toBeLessThanOrEqual(0.04 + 1e-7);
  });

  it('rejects inconsistent configs with the reason', () => {
    expect(() => buildVit({...VIT_DEFAULTS, patchSize: 5})).toThrow(/imageSize 28 is not a multiple of patchSize 5/);
    expect(() => buildVit({...VIT_DEFAULTS, heads: 3})).toThrow(/dim 64 is not a multiple of heads 3/);
  });
});

describe('buildCnn', () => {
  it('emits conv/pool stages and a classifier with PyTorch names', () => {
    const model = buildCnn(CNN_DEFAULTS);
    const dims = Object.fromEntries(model.graph.initializers.map((t) => [t.name, t.dims]));
    expect(dims['conv1.weight']).toEqual([16, 1, 3, 3]);
    expect(dims['conv2.weight']).toEqual([32, 16, 3, 3]);
    expect(dims['fc.weight']).toEqual([32 * 7 * 7, 10]);
    expect(model.graph.nodes.filter((n) => n.opType === 'Conv').map((n) => n.name)).toEqual(['conv1', 'conv2']);
  });
});
