import {mkdtempSync, readdirSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import * as ort from 'onnxruntime-node';
import {afterAll, describe, expect, it} from 'vitest';
import {DataType, type Model, type Node} from './ir.js';
import {checkDevice, createSession, deviceName, DeviceUnavailableError, executionSettings, parseDevice} from './session.js';
import {floatTensor} from './tensor.js';
import {modelOf} from '../../test/support/onnx-model.js';

describe('devices', () => {
  it('parses cpu and cuda:N, and nothing else', () => {
    expect(parseDevice('cpu')).toEqual({kind: 'cpu'});
    expect(parseDevice('cuda')).toEqual({kind: 'cuda', index: 0});
    expect(parseDevice('cuda:3')).toEqual({kind: 'cuda', index: 3});
    for (const bad of ['gpu', 'cuda:', 'cuda:x', 'CPU', 'cuda:1:2']) expect(parseDevice(bad)).toBeUndefined();
    expect(deviceName({kind: 'cuda', index: 2})).toBe('cuda:2');
  });

  it('keys results on the execution provider and its precision, not on which GPU', () => {
    expect(executionSettings({kind: 'cpu'})).toEqual({provider: 'cpu'});
    expect(executionSettings({kind: 'cuda', index: 0})).toEqual(executionSettings({kind: 'cuda', index: 1}));
    expect(executionSettings({kind: 'cuda', index: 0})).toEqual({provider: 'cuda', tf32: false});
  });

  // CI machines carry onnxruntime-node without its CUDA provider: asking for one must say what to install.
  it('refuses cuda where the CUDA provider is not installed, naming what to install', async () => {
    let refused: unknown;
    try {
      checkDevice({kind: 'cuda', index: 0});
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(DeviceUnavailableError);
    expect((refused as DeviceUnavailableError).message).toMatch(/device cuda:0: onnxruntime-node's CUDA provider is not installed \(no .*libonnxruntime_providers_cuda\.so\)/);
    expect((refused as DeviceUnavailableError).hint).toMatch(/ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules\/onnxruntime-node\/script\/install\.js/);
    await expect(createSession(new Uint8Array(0), {device: {kind: 'cuda', index: 0}})).rejects.toBeInstanceOf(DeviceUnavailableError);
    expect(() => checkDevice({kind: 'cpu'})).not.toThrow();
  });
});

// A model past the inline limit reaches onnxruntime as external data: written to the caller's scratch directory
// when it names one (onnxruntime maps the files), else handed over in memory. Both must compute what the inline
// model computes, and the scratch files must not outlive the session.
describe('models past the inline limit', () => {
  const scratchRoot = mkdtempSync(join(tmpdir(), 'axx-session-'));
  afterAll(() => rmSync(scratchRoot, {recursive: true, force: true}));

  /** y = tanh(x @ W1) @ W2 with two 256 KiB weights, which go to external data. */
  const mlp = (opType = 'MatMul'): Model => {
    const weight = (name: string, seed: number) => floatTensor(name, [256, 256], Array.from({length: 256 * 256}, (_, i) => Math.sin(seed * 7919 + i) / 16));
    const node = (type: string, inputs: string[], output: string): Node => ({name: output, opType: type, domain: '', inputs, outputs: [output], attributes: []});
    return modelOf({
      name: 'mlp',
      nodes: [node('MatMul', ['x', 'W1'], 'h'), node('Tanh', ['h'], 't'), node(opType, ['t', 'W2'], 'y')],
      initializers: [weight('W1', 1), weight('W2', 2)],
      inputs: [{name: 'x', elemType: DataType.FLOAT, shape: [2, 256]}],
      outputs: [{name: 'y', elemType: DataType.FLOAT}],
      valueInfo: [],
    });
  };
  const feeds = () => ({x: new ort.Tensor('float32', Float32Array.from({length: 512}, (_, i) => Math.cos(i)), [2, 256])});

  it('gives the inline outputs through a scratch directory, whose files live as long as the session', async () => {
    const model = mlp();
    using inline = await createSession(model);
    const expected = (await inline.run(feeds())).y!.data;
    const scratchDir = mkdtempSync(join(scratchRoot, 'scratch-'));
    const viaScratch = await createSession(model, {inlineLimit: 0, scratchDir});
    const [sessionDir, ...others] = readdirSync(scratchDir);
    expect(others).toEqual([]);
    expect(readdirSync(join(scratchDir, sessionDir!)).sort()).toEqual(['model.onnx', 'model.onnx.data']);
    expect((await viaScratch.run(feeds())).y!.data).toEqual(expected);
    await viaScratch.release();
    expect(readdirSync(scratchDir)).toEqual([]);
    await viaScratch.release(); // idempotent, files already gone
    using inMemory = await createSession(model, {inlineLimit: 0});
    expect((await inMemory.run(feeds())).y!.data).toEqual(expected);
  });

  it('removes its scratch files when onnxruntime refuses the model', async () => {
    const scratchDir = mkdtempSync(join(scratchRoot, 'refused-'));
    await expect(createSession(mlp('NoSuchOperator'), {inlineLimit: 0, scratchDir})).rejects.toThrow(/NoSuchOperator/);
    expect(readdirSync(scratchDir)).toEqual([]);
  });
});
