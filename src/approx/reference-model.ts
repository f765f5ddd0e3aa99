// Whole-model reference for an approximate model: the FLOAT model runs in onnxruntime, but every
// approximated layer's output is computed in TypeScript by direct table lookup (reference.ts) from
// the manifest's scales. Layers are resolved one at a time in graph order: the float model, cut
// at the approximated layers (their outputs become inputs), runs once per layer; run t reads the
// operands of layer t, which depend only on layers already replaced. Slow, simple, and independent
// of the low-rank rewrite it checks. Dequantisation: the exact int32 accumulator times the fp32 factor
// fround(step_a·step_w), rounded once to fp32 (TransAxx's acc.float() * scale also rounds the
// accumulator to fp32 first, which changes accumulators past 2^24; docs/emulation.md).
import * as ort from 'onnxruntime-node';
import {attribute} from '../onnx/attributes.js';
import {DataType, type Model, type Node} from '../onnx/ir.js';
import type {SessionFactory} from '../onnx/session.js';
import {withOutputs} from './calibration-run.js';
import {quantizeTensor, quantizeValue, quantScale} from './quantize.js';
import {convOutputSize, referenceConv, referenceMatMul, type ConvShape} from './reference.js';
import type {Manifest, ManifestLayer, ScaleRecord} from './rewrite-manifest.js';

export interface ReferenceModel {
  /** The model's outputs for one batch. */
  run(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>>;
  release(): Promise<void>;
}

/** `tables`: the operand table (emulate/operand-table.ts) of every multiplier the manifest names. */
export async function referenceModel(float: Model, manifest: Manifest, tables: ReadonlyMap<string, Int32Array>, createSession: SessionFactory): Promise<ReferenceModel> {
  const graph = float.graph;
  const nodes = new Map(graph.nodes.map((n) => [n.name, n]));
  const initializers = new Map(graph.initializers.map((t) => [t.name, t]));
  const replaced = new Set(manifest.layers.map((l) => l.node));
  const operands = [...new Set(manifest.layers.flatMap((l) => l.exact.inputs.slice(0, 2)))].filter((name) => !initializers.has(name));
  const layerOutputs = manifest.layers.map((l) => l.output);
  // The float model exposing every layer output: the first feeds of the cut model (right shapes).
  const floatSession = await createSession(withOutputs(float, layerOutputs));
  const cut: Model = {
    ...float,
    graph: {...graph, nodes: graph.nodes.filter((n) => !replaced.has(n.name)), inputs: [...graph.inputs, ...layerOutputs.map((name) => ({name, elemType: DataType.FLOAT}))]},
  };
  const cutSession = await createSession(withOutputs(cut, operands));
  const weights = new Map<string, Int8Array>();

  const quantizedWeight = (layer: ManifestLayer): Int8Array => {
    let q = weights.get(layer.node);
    if (!q) {
      const node = nodes.get(layer.node)!;
      const w = initializers.get(layer.weight!)!;
      let data = w.data as Float32Array;
      if (layer.op === 'Gemm' && attribute(node, 'transB', 'int')) data = transpose(data, w.dims[0]!, w.dims[1]!);
      const perChannel = layer.op === 'Conv' ? data.length / w.dims[0]! : 0;
      const columns = data.length / (layer.op === 'Conv' ? 1 : layer.k);
      q = quantizeWith(data, layer.scales.second, (i) => (layer.op === 'Conv' ? Math.floor(i / perChannel) : i % columns));
      weights.set(layer.node, q);
    }
    return q;
  };

  const layerOutput = (layer: ManifestLayer, values: Record<string, ort.Tensor>): ort.Tensor => {
    const table = tables.get(layer.multiplier.name);
    if (!table) throw new Error(`no table given for multiplier ${layer.multiplier.name}`);
    const node = nodes.get(layer.node)!;
    const a = values[layer.exact.inputs[0]!]!;
    const qa = quantizeTensor(a.data as Float32Array, quantScale(layer.scales.first.amax[0]!).step);
    if (layer.op === 'Conv') return convOutput(layer, node, table, a.dims, qa, quantizedWeight(layer));
    const b = layer.kind === 'activations' ? values[layer.exact.inputs[1]!]! : undefined;
    const qb = b ? quantizeTensor(b.data as Float32Array, quantScale(layer.scales.second.amax[0]!).step) : quantizedWeight(layer);
    return matrixOutput(layer, node, table, a.dims, qa, qb, b?.dims);
  };

  const biasOf = (layer: ManifestLayer): Float32Array | undefined => {
    const name = layer.exact.inputs[2];
    return name ? (initializers.get(name)?.data as Float32Array | undefined) : undefined;
  };

  const matrixOutput = (layer: ManifestLayer, node: Node, table: Int32Array, aDims: readonly number[], qa: Int8Array, qb: Int8Array, bDims?: readonly number[]): ort.Tensor => {
    const k = layer.k;
    const rows = aDims[aDims.length - 2] ?? 1;
    const n = bDims ? bDims[bDims.length - 1]! : qb.length / k;
    const batch = qa.length / (rows * k);
    const acc = referenceMatMul(table, qa, qb, {batch, m: rows, k, n, sharedB: !bDims});
    const alpha = layer.op === 'Gemm' ? (attribute(node, 'alpha', 'float') ?? 1) : 1;
    const beta = attribute(node, 'beta', 'float') ?? 1;
    const bias = layer.op === 'Gemm' && beta !== 0 ? biasOf(layer) : undefined;
    const stepA = layer.scales.first.step[0]!;
    const stepsB = layer.scales.second.step;
    const out = new Float32Array(acc.length);
    for (let i = 0; i < acc.length; i++) {
      const col = i % n;
      const y = Math.fround(acc[i]! * Math.fround(stepA * stepsB[stepsB.length === 1 ? 0 : col]! * alpha));
      out[i] = bias ? Math.fround(y + (beta === 1 ? bias[col]! : Math.fround(bias[col]! * beta))) : y;
    }
    return new ort.Tensor('float32', out, [...aDims.slice(0, -1), n]);
  };

  const convOutput = (layer: ManifestLayer, node: Node, table: Int32Array, xDims: readonly number[], qx: Int8Array, qw: Int8Array): ort.Tensor => {
    const w = initializers.get(layer.weight!)!;
    const shape: ConvShape = {
      input: xDims as ConvShape['input'],
      weight: w.dims as ConvShape['weight'],
      pads: (attribute(node, 'pads', 'ints') ?? [0, 0, 0, 0]) as ConvShape['pads'],
      strides: (attribute(node, 'strides', 'ints') ?? [1, 1]) as ConvShape['strides'],
      dilations: (attribute(node, 'dilations', 'ints') ?? [1, 1]) as ConvShape['dilations'],
      group: attribute(node, 'group', 'int') ?? 1,
    };
    const acc = referenceConv(table, qx, qw, shape);
    const [oh, ow] = convOutputSize(shape);
    const channels = w.dims[0]!;
    const bias = biasOf(layer);
    const stepA = layer.scales.first.step[0]!;
    const stepsB = layer.scales.second.step;
    const out = new Float32Array(acc.length);
    for (let i = 0; i < acc.length; i++) {
      const ch = Math.floor(i / (oh * ow)) % channels;
      const y = Math.fround(acc[i]! * Math.fround(stepA * stepsB[stepsB.length === 1 ? 0 : ch]!));
      out[i] = bias ? Math.fround(y + bias[ch]!) : y;
    }
    return new ort.Tensor('float32', out, [xDims[0]!, channels, oh, ow]);
  };

  return {
    async run(feeds) {
      const floatValues = await floatSession.run(feeds);
      const layerFeeds: Record<string, ort.Tensor> = Object.fromEntries(layerOutputs.map((name) => [name, floatValues[name]!]));
      let values = await cutSession.run({...feeds, ...layerFeeds});
      for (const layer of manifest.layers) {
        layerFeeds[layer.output] = layerOutput(layer, values);
        values = await cutSession.run({...feeds, ...layerFeeds});
      }
      return Object.fromEntries(graph.outputs.map((o) => [o.name, values[o.name]!]));
    },
    async release() {
      await floatSession.release();
      await cutSession.release();
    },
  };
}

function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

function quantizeWith(data: Float32Array, record: ScaleRecord, channelOf: (i: number) => number): Int8Array {
  const steps = record.amax.map((a) => quantScale(a).step);
  const q = new Int8Array(data.length);
  for (let i = 0; i < data.length; i++) q[i] = quantizeValue(data[i]!, steps[steps.length === 1 ? 0 : channelOf(i)]!);
  return q;
}
