// Step kind "load/model": brings an ONNX model into a pipeline, from a path or by the name of a
// model shipped with axx, checks that onnxruntime accepts it, and describes it (inputs/outputs,
// parameters, MACs per layer).
import {createHash} from 'node:crypto';
import {copyFile, readdir, readFile, writeFile} from 'node:fs/promises';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {StepError, type StepKind} from '../engine/step-kind.js';
import {decodeModel, encodeModel, OnnxDecodeError, OnnxEncodeError} from '../onnx/codec.js';
import type {Dim, Model, ValueInfo} from '../onnx/ir.js';
import {layerMacs, parameterCount} from '../onnx/stats.js';
import {dataTypeName} from '../onnx/tensor.js';

export interface LoadModelParams {
  /** An .onnx file (relative paths resolve against the working directory). */
  path?: string;
  /** A model shipped with axx (assets/models/<name>.onnx); "vit-mnist" when neither is given. */
  name?: string;
}

const DEFAULT_MODEL = 'vit-mnist';
const shippedDir = fileURLToPath(new URL('../../assets/models/', import.meta.url));

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    path: {type: 'string', minLength: 1, description: 'An ONNX file; its content (and external data) is part of the cache key.'},
    name: {type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$', description: `A model shipped with axx (default "${DEFAULT_MODEL}").`},
  },
  not: {required: ['path', 'name']},
};

interface Source {
  file: string;
  /** What the user asked for, for messages and `info.source`. */
  label: string;
  param: string;
}

async function resolveSource(params: LoadModelParams): Promise<Source> {
  if (params.path !== undefined && params.name !== undefined) {
    throw new StepError('give either with.path or with.name, not both', 'path loads your own ONNX file; name loads a model shipped with axx', 'with');
  }
  if (params.path !== undefined) return {file: resolve(params.path), label: params.path, param: 'with.path'};
  const name = params.name ?? DEFAULT_MODEL;
  return {file: join(shippedDir, `${name}.onnx`), label: `${name} (shipped)`, param: 'with.name'};
}

async function readSource(source: Source, params: LoadModelParams): Promise<Uint8Array> {
  try {
    return await readFile(source.file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'EISDIR') throw new StepError(`cannot read ${source.file}: ${(error as Error).message}`, undefined, source.param);
    if (params.path !== undefined) {
      throw new StepError(`model file not found: ${source.file}`, 'check with.path (relative paths resolve against the directory axx runs in)', source.param);
    }
    const shipped = (await readdir(shippedDir).catch(() => [])).filter((f) => f.endsWith('.onnx')).map((f) => f.slice(0, -5));
    throw new StepError(
      `no shipped model named "${params.name ?? DEFAULT_MODEL}" (looked for ${source.file})`,
      shipped.length > 0 ? `shipped models: ${shipped.join(', ')}` : 'no models are shipped in assets/models; use with.path',
      source.param,
    );
  }
}

/** External data files a model reads, relative to its directory, sorted. */
function externalFiles(model: Model): string[] {
  const locations = new Set<string>();
  for (const tensor of model.graph.initializers) if (tensor.externalLocation !== undefined) locations.add(tensor.externalLocation);
  return [...locations].sort();
}

/** The model as one file, which a step's file output must be; past protobuf's 2 GiB limit that cannot be. */
function selfContained(model: Model, source: Source): Uint8Array {
  try {
    return encodeModel(model);
  } catch (error) {
    if (!(error instanceof OnnxEncodeError)) throw error;
    throw new StepError(
      `${source.file} with its external data is too large for one ONNX file: ${error.message}`,
      'a pipeline passes models between steps as single files, so models past 2 GiB are not supported as load/model inputs yet',
      source.param,
    );
  }
}

type ValueSummary = {name: string; type: string; shape: Dim[] | null};

/** The `info` output. MACs are per sample (symbolic dims count as 1), keyed by node name. */
export type ModelInfo = {
  source: string;
  /** Of the model file as read (provenance in reports). */
  sha256: string;
  producer: string;
  opsets: {domain: string; version: number}[];
  inputs: ValueSummary[];
  outputs: ValueSummary[];
  nodes: number;
  parameters: number;
  macs: {total: number; perLayer: Record<string, number | null>};
};

function describeValue(value: ValueInfo): ValueSummary {
  return {name: value.name, type: dataTypeName(value.elemType), shape: value.shape ?? null};
}

function describe(model: Model, label: string, digest: string): ModelInfo {
  const initializers = new Set(model.graph.initializers.map((t) => t.name));
  const layers = layerMacs(model);
  const perLayer: Record<string, number | null> = {};
  layers.forEach((layer, i) => {
    perLayer[layer.node || `${layer.opType}#${i}`] = layer.macs;
  });
  return {
    source: label,
    sha256: digest,
    producer: [model.producerName, model.producerVersion].filter(Boolean).join(' '),
    opsets: model.opsetImports.map((o) => ({domain: o.domain, version: o.version})),
    // Before IR version 4 initializers were also listed as graph inputs; they are not real inputs.
    inputs: model.graph.inputs.filter((i) => !initializers.has(i.name)).map(describeValue),
    outputs: model.graph.outputs.map(describeValue),
    nodes: model.graph.nodes.length,
    parameters: parameterCount(model.graph),
    macs: {total: layers.reduce((sum, l) => sum + (l.macs ?? 0), 0), perLayer},
  };
}

export const loadModelKind: StepKind<LoadModelParams> = {
  name: 'load/model',
  version: 1,
  description: 'Load an ONNX model (a path or a shipped model name), check it in onnxruntime, report inputs/outputs, parameters and MACs',
  schema,
  outputs: {
    model: {type: 'file', format: 'onnx', description: 'the model as one self-contained ONNX file'},
    info: {type: 'value', format: 'model-info', description: 'inputs/outputs with shapes, parameter count, MACs per layer (per sample)'},
  },
  async keyExtras(params, key) {
    // The cache follows the model's content, not its path: the file and any external data files.
    const source = await resolveSource(params);
    const bytes = await readFile(source.file).catch(() => undefined);
    if (!bytes) return {model: 'missing', external: {}};
    const external: Record<string, string> = {};
    try {
      for (const location of externalFiles(decodeModel(bytes, {baseDir: dirname(source.file)}))) {
        external[location] = (await key.digest(join(dirname(source.file), location))).digest;
      }
    } catch {
      // An unreadable model fails in run() with a precise message; its bytes still key the attempt.
    }
    return {model: (await key.digest(source.file)).digest, external};
  },
  async run(ctx) {
    const source = await resolveSource(ctx.params);
    const bytes = await readSource(source, ctx.params);
    let model: Model;
    try {
      model = decodeModel(bytes, {baseDir: dirname(source.file)});
    } catch (error) {
      if (!(error instanceof OnnxDecodeError)) throw error;
      throw new StepError(`${source.file} is not a usable ONNX model: ${error.message}`, 'export the model to ONNX (e.g. torch.onnx.export) and point with.path at the .onnx file', source.param);
    }
    ctx.progress(1, 3, 'check');
    // onnxruntime loads when a step runs, not when a pipeline is planned.
    const {createSession} = await import('../onnx/session.js');
    try {
      const session = await createSession(source.file, {intraOpNumThreads: 1});
      await session.release();
    } catch (error) {
      throw new StepError(`onnxruntime cannot load ${source.file}: ${(error as Error).message}`, 'the file decodes as ONNX but onnxruntime rejects it; check its opset and operators', source.param);
    }
    ctx.progress(2, 3, 'check');
    const info = describe(model, source.label, createHash('sha256').update(bytes).digest('hex'));
    const out = join(ctx.scratchDir, 'model.onnx');
    // A model with external data becomes one self-contained file; otherwise the bytes are kept as they are.
    if (externalFiles(model).length > 0) await writeFile(out, selfContained(model, source));
    else await copyFile(source.file, out);
    ctx.progress(3, 3, 'check');
    ctx.log(`${source.label}: ${info.parameters} parameters, ${info.macs.total} MACs per sample`);
    return {model: {file: out}, info: {value: info}};
  },
};
