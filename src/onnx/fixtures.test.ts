// The ONNX toolkit against models exported by PyTorch (scripts/fixtures/make_onnx_fixtures.py).
import {readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import * as ort from 'onnxruntime-node';
import {describe, expect, it} from 'vitest';
import {decodeModel, encodeModel, readModelFile} from './codec.js';
import {foldConstants} from './fold.js';
import type {Model, Tensor} from './ir.js';
import {createSession} from './session.js';
import {inferShapes} from './shapes.js';
import {layerMacs, parameterCount} from './stats.js';

const dir = fileURLToPath(new URL('../../test/fixtures/onnx/', import.meta.url));

interface StoredArray {
  name: string;
  dims: number[];
  data: string;
}
interface FixtureIo {
  input: StoredArray;
  logits: StoredArray;
  predictions: number[];
}

function floats(stored: StoredArray): Float32Array {
  const bytes = Buffer.from(stored.data, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

function io(name: string): FixtureIo {
  return JSON.parse(readFileSync(`${dir}${name}.io.json`, 'utf8')) as FixtureIo;
}

async function logitsOf(model: Uint8Array | string, fixture: FixtureIo): Promise<Float32Array> {
  using session = await createSession(model, {intraOpNumThreads: 1});
  const out = await session.run({input: new ort.Tensor('float32', floats(fixture.input), fixture.input.dims)});
  return out.logits!.data as Float32Array;
}

function argmaxRows(logits: Float32Array, classes: number): number[] {
  const rows: number[] = [];
  for (let r = 0; r < logits.length / classes; r++) {
    const row = logits.subarray(r * classes, (r + 1) * classes);
    rows.push(row.indexOf(Math.max(...row)));
  }
  return rows;
}

const withoutExternalLocation = (model: Model): Model => ({
  ...model,
  graph: {...model.graph, initializers: model.graph.initializers.map(({externalLocation: _, ...t}) => t as Tensor)},
});

const exported = [
  {file: 'tiny-vit-opset13', io: 'tiny-vit-opset13'},
  {file: 'tiny-vit-opset17', io: 'tiny-vit-opset17'},
  {file: 'tiny-cnn', io: 'tiny-cnn'},
  {file: 'tiny-cnn-external', io: 'tiny-cnn'},
  {file: 'tiny-cnn-typed', io: 'tiny-cnn'},
];

describe.each(exported)('PyTorch export $file', ({file, io: ioName}) => {
  const path = `${dir}${file}.onnx`;
  const fixture = io(ioName);

  it('decodes, encodes and decodes again losslessly, with stable bytes', () => {
    const first = readModelFile(path);
    const bytes = encodeModel(first);
    const second = decodeModel(bytes);
    expect(second).toEqual(withoutExternalLocation(first));
    expect(encodeModel(second)).toEqual(bytes);
  });

  it("runs the re-encoded model bit-identically and reproduces PyTorch's predictions", async () => {
    const original = await logitsOf(path, fixture);
    const rewritten = await logitsOf(encodeModel(readModelFile(path)), fixture);
    expect(Buffer.from(rewritten.buffer)).toEqual(Buffer.from(original.buffer));
    const classes = fixture.logits.dims[1]!;
    expect(argmaxRows(rewritten, classes)).toEqual(fixture.predictions);
    const torchLogits = floats(fixture.logits);
    const maxError = Math.max(...rewritten.map((v, i) => Math.abs(v - torchLogits[i]!)));
    expect(maxError).toBeLessThan(1e-4);
  });

  it('infers the shapes onnxruntime computes for every value', async () => {
    expect(await shapeMismatches(readModelFile(path), new ort.Tensor('float32', floats(fixture.input), fixture.input.dims))).toEqual([]);
  });
});

/** Values whose inferred shape differs from the one onnxruntime computes (all node outputs are fetched). */
async function shapeMismatches(model: Model, input: ort.Tensor): Promise<unknown[]> {
  const inferred = inferShapes(model, {inputShapes: {input: input.dims as number[]}});
  const values = model.graph.nodes.flatMap((node) => node.outputs).filter((name) => name !== '');
  model.graph.outputs = values.map((name) => ({name, elemType: 0}));
  using session = await createSession(model, {graphOptimizationLevel: 'disabled'});
  const out = await session.run({input});
  const mismatches = values.filter((name) => JSON.stringify(inferred.get(name)?.shape) !== JSON.stringify(out[name]!.dims));
  return mismatches.map((name) => [name, inferred.get(name)?.shape, out[name]!.dims]);
}

describe('model built by axx (the shipped vit-mnist)', () => {
  const path = fileURLToPath(new URL('../../assets/models/vit-mnist.onnx', import.meta.url));

  it('re-encodes to the identical bytes', () => {
    const bytes = readFileSync(path);
    expect(Buffer.from(encodeModel(decodeModel(bytes)))).toEqual(bytes);
  });

  it('infers the shapes onnxruntime computes for every value', async () => {
    const input = new ort.Tensor('float32', new Float32Array(2 * 28 * 28).fill(0.5), [2, 1, 28, 28]);
    expect(await shapeMismatches(readModelFile(path), input)).toEqual([]);
  });
});

describe('symbolic batch', () => {
  it.each(['tiny-vit-opset13', 'tiny-vit-opset17', 'tiny-cnn'])('%s keeps the batch dim symbolic through to the logits', (file) => {
    const model = readModelFile(`${dir}${file}.onnx`);
    expect(inferShapes(model).get('logits')?.shape).toEqual(['batch', 10]);
  });
});

describe('constant folding on a PyTorch export', () => {
  it('folds weight Identities and Constants of the opset 13 ViT without changing its outputs', async () => {
    const fixture = io('tiny-vit-opset13');
    const model = readModelFile(`${dir}tiny-vit-opset13.onnx`);
    const before = await logitsOf(encodeModel(model), fixture);
    const nodes = model.graph.nodes.length;
    const folded = await foldConstants(model);
    expect(folded).toBeGreaterThan(10);
    expect(model.graph.nodes).toHaveLength(nodes - folded);
    expect(model.graph.nodes.some((node) => node.opType === 'Identity' || node.opType === 'Constant')).toBe(false);
    const after = await logitsOf(encodeModel(model), fixture);
    expect(Buffer.from(after.buffer)).toEqual(Buffer.from(before.buffer));
  });
});

describe('storage forms', () => {
  it('external data and typed fields decode to the same initializers as raw_data', () => {
    const raw = readModelFile(`${dir}tiny-cnn.onnx`).graph.initializers;
    const external = withoutExternalLocation(readModelFile(`${dir}tiny-cnn-external.onnx`)).graph.initializers;
    const typed = readModelFile(`${dir}tiny-cnn-typed.onnx`).graph.initializers;
    expect(external).toEqual(raw);
    expect(typed).toEqual(raw);
  });
});

describe('model statistics', () => {
  it('counts MACs of the tiny ViT per layer (16 patches + cls, dim 16, 2 heads, MLP 32)', () => {
    const macs = layerMacs(readModelFile(`${dir}tiny-vit-opset17.onnx`));
    const tokens = 17;
    const perBlock = [tokens * 16 * 48, tokens * tokens * 8 * 2, tokens * tokens * 8 * 2, tokens * 16 * 16, tokens * 16 * 32, tokens * 32 * 16];
    expect(macs.map((m) => m.macs)).toEqual([16 * 16 * 16, ...perBlock, ...perBlock, 16 * 10]);
    expect(macs[0]!.opType).toBe('Conv');
  });

  it('counts parameters of the tiny CNN', () => {
    const conv = 8 * 3 * 9 + 8 + (8 * 2 * 9 + 8) + 16 * 8 * 9;
    const batchNorm = 4 * 8;
    const fc = 16 * 10 + 10;
    expect(parameterCount(readModelFile(`${dir}tiny-cnn.onnx`).graph)).toBe(conv + batchNorm + fc);
  });
});
