// onnxruntime-node sessions with explicit, reproducible options. Callers pass thread counts and the
// device from their step's parameters and resource grant; nothing here reads the environment. Sessions
// hold native memory, so the wrapper is Disposable (`using session = await createSession(...)`) and
// release() is idempotent. A model too large for one protobuf buffer reaches onnxruntime with its
// weights as external data: written to the caller's scratch directory, which onnxruntime maps, or else
// handed over in memory (the `externalData` session option), which onnxruntime copies several times slower.
import {mkdtempSync, rmSync} from 'node:fs';
import {join} from 'node:path';
import * as ort from 'onnxruntime-node';
import {encodeModelSplit, MODEL_FILE_NAME, writeSplitModel, type ExternalDataFile, type SplitModel} from './codec.js';
import {checkDevice, CPU, executionSettings, type Device} from './device.js';
import type {Model} from './ir.js';

export {CPU, checkDevice, deviceName, DeviceUnavailableError, executionSettings, parseDevice, type Device} from './device.js';

export interface SessionOptions {
  /** Threads for one operator; default 1 (deterministic and fair to concurrently running steps). */
  intraOpNumThreads?: number;
  /** Default 'all'. Use 'disabled' to run the graph exactly as written. */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Default the CPU. */
  device?: Device;
  /** An IR model encoding to more bytes than this reaches onnxruntime with its weights as external data; default SINGLE_FILE_LIMIT. */
  inlineLimit?: number;
  /**
   * A directory of the caller's (a step's or task's scratch directory) where a model past `inlineLimit` is
   * written for onnxruntime to map, and removed when the session is released. Without it the weights are
   * handed over in memory, and copied twice on the way: several times slower (docs/scale.md).
   */
  scratchDir?: string;
}

export interface ModelSession extends Disposable {
  readonly session: ort.InferenceSession;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, ort.Tensor>, fetches?: readonly string[]): Promise<Record<string, ort.Tensor>>;
  release(): Promise<void>;
}

/** What a session's numbers depend on besides the model and its inputs: part of every memo of ORT results. */
export interface RuntimeIdentity {
  onnxruntime: string;
  executionProvider: string;
}

/** Read from the loaded onnxruntime binding, so an upgrade changes it without anyone bumping a constant. */
export function runtimeIdentity(device: Device = CPU): RuntimeIdentity {
  return {onnxruntime: ort.env.versions.node ?? ort.env.versions.common, executionProvider: executionSettings(device).provider};
}

/** What steps receive instead of calling onnxruntime directly, so tests and benches can wrap it. */
export type SessionFactory = (model: Model | Uint8Array | string, opts?: SessionOptions) => Promise<ModelSession>;

/** One buffer per data file, as onnxruntime's externalData option takes them. */
function inMemoryFiles(files: readonly ExternalDataFile[]): ort.InferenceSession.SessionOptions['externalData'] {
  return files.map((file) => {
    const data = new Uint8Array(file.byteLength);
    let offset = 0;
    for (const chunk of file.chunks) {
      data.set(chunk, offset);
      offset += chunk.length;
    }
    return {path: file.location, data};
  });
}

/** Writes `split` into the fresh directory `dir` and loads it from there; removes `dir` if onnxruntime refuses it. */
async function createFromScratch(dir: string, split: SplitModel, options: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> {
  try {
    const file = join(dir, MODEL_FILE_NAME);
    writeSplitModel(file, split);
    return await ort.InferenceSession.create(file, options);
  } catch (error) {
    rmSync(dir, {recursive: true, force: true});
    throw error;
  }
}

/** A session from an IR model, serialized model bytes, or an .onnx path (which lets ORT resolve external data). */
export const createSession: SessionFactory = async (model, opts = {}) => {
  const device = opts.device ?? CPU;
  checkDevice(device);
  const options: ort.InferenceSession.SessionOptions = {
    // The CPU provider stays listed after CUDA: nodes CUDA lacks (e.g. uint8 MatMulInteger) fall back to it.
    executionProviders: device.kind === 'cuda' ? [{name: 'cuda', deviceId: device.index}, 'cpu'] : ['cpu'],
    intraOpNumThreads: opts.intraOpNumThreads ?? 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: opts.graphOptimizationLevel ?? 'all',
    // Errors only: ORT's warnings (e.g. unused initializers) would interleave with axx's own output.
    logSeverityLevel: 3,
  };
  let session: ort.InferenceSession;
  let scratch: string | undefined;
  if (typeof model === 'string') session = await ort.InferenceSession.create(model, options);
  else if (model instanceof Uint8Array) session = await ort.InferenceSession.create(model, options);
  else {
    const split = encodeModelSplit(model, `${MODEL_FILE_NAME}.data`, opts.inlineLimit);
    if (split.externalData.length === 0) session = await ort.InferenceSession.create(split.model, options);
    else if (opts.scratchDir === undefined) session = await ort.InferenceSession.create(split.model, {...options, externalData: inMemoryFiles(split.externalData)});
    else {
      scratch = mkdtempSync(join(opts.scratchDir, 'session-'));
      session = await createFromScratch(scratch, split, options);
    }
  }
  let released = false;
  const release = async (): Promise<void> => {
    if (released) return;
    released = true;
    await session.release();
    if (scratch !== undefined) rmSync(scratch, {recursive: true, force: true});
  };
  return {
    session,
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    run: (feeds, fetches) => (fetches ? session.run(feeds, [...fetches]) : session.run(feeds)),
    release,
    [Symbol.dispose]: () => void release(),
  };
};
