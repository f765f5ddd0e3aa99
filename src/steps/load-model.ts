// Step kind "load/model": brings an ONNX model into a pipeline, from a path or by the name of a
// model shipped with axx, checks that onnxruntime accepts it, and describes it (inputs/outputs,
// parameters, MACs per layer). A model with external data is passed on as one file below 1 GiB and
// as a model directory (model.onnx + model.onnx.data) above (shared/model-output.ts).
import {createHash} from 'node:crypto';
import {copyFile, readdir, readFile, stat} from 'node:fs/promises';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {StepError, type OutputValue, type StepKind} from '../engine/step-kind.js';
import {decodeModel, modelFileOf, OnnxDecodeError} from '../onnx/codec.js';
import {MAX_MESSAGE_BYTES} from '../onnx/protobuf.js';
import type {Dim, Model, ValueInfo} from '../onnx/ir.js';
import {layerMacs, parameterCount} from '../onnx/stats.js';
import {dataTypeName} from '../onnx/tensor.js';
import {modelOutput, type ModelOutputOptions} from './shared/model-output.js';

export interface LoadModelParams {
  /** An .onnx file, or a directory holding model.onnx and its external data (relative paths resolve against the working directory). */
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
    path: {type: 'string', minLength: 1, description: 'An ONNX file (or a directory holding model.onnx); its content and external data are part of the cache key.'},
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
  if (params.path !== undefined) return {file: modelFileOf(resolve(params.path)), label: params.path, param: 'with.path'};
  const name = params.name ?? DEFAULT_MODEL;
  return {file: join(shippedDir, `${name}.onnx`), label: `${name} (shipped)`, param: 'with.name'};
}

/** Protobuf cannot hold a message past 2 GiB, so neither onnxruntime nor onnx can read such a file (nor Node in one buffer). */
function checkSingleFileSize(source: Source, bytes: number): void {
  if (bytes <= MAX_MESSAGE_BYTES) return;
  throw new StepError(
    `${source.file} is ${(bytes / 2 ** 30).toFixed(1)} GiB as one ONNX file, past protobuf's ${MAX_MESSAGE_BYTES}-byte (2 GiB) limit: no ONNX reader can load it`,
    'save the model with its weights as external data (onnx.save_model(model, "model.onnx", save_as_external_data=True); torch.onnx.export does so by itself past 2 GiB) and point with.path at the .onnx file or its directory',
    source.param,
  );
}

async function readSource(source: Source, params: LoadModelParams): Promise<Uint8Array> {
  // A stat failure (no such file …) is explained by readFile's below.
  checkSingleFileSize(source, await stat(source.file).then((s) => s.size, () => 0));
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

export function makeLoadModelKind(options: ModelOutputOptions = {}): StepKind<LoadModelParams> {
  return {
    name: 'load/model',
    version: 1,
    description: 'Load an ONNX model (a path or a shipped model name), check it in onnxruntime, report inputs/outputs, parameters and MACs',
    schema,
    outputs: {
      model: {type: 'path', format: 'onnx', description: 'the model: one self-contained ONNX file, or past 1 GiB a directory of model.onnx + model.onnx.data'},
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
      // A model with external data is rewritten in axx's own layout (one file when small enough); otherwise the bytes are kept as they are.
      let out: OutputValue;
      if (externalFiles(model).length > 0) out = modelOutput(ctx.scratchDir, model, 'model', options);
      else {
        out = {file: join(ctx.scratchDir, 'model.onnx')};
        await copyFile(source.file, out.file);
      }
      ctx.progress(3, 3, 'check');
      ctx.log(`${source.label}: ${info.parameters} parameters, ${info.macs.total} MACs per sample` + ('dir' in out ? ' (passed on as model.onnx + external data)' : ''));
      return {model: out, info: {value: info}};
    },
  };
}

export const loadModelKind = makeLoadModelKind();
