// onnxruntime-node sessions with explicit, reproducible options. Callers pass thread counts and the
// device from their step's parameters and resource grant; nothing here reads the environment. Sessions
// hold native memory, so the wrapper is Disposable (`using session = await createSession(...)`) and
// release() is idempotent. A model too large for one protobuf buffer reaches onnxruntime with its
// weights as in-memory external data (the `externalData` session option).
import * as ort from 'onnxruntime-node';
import {encodeModelSplit, type ExternalDataFile} from './codec.js';
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
  if (typeof model === 'string') session = await ort.InferenceSession.create(model, options);
  else if (model instanceof Uint8Array) session = await ort.InferenceSession.create(model, options);
  else {
    const split = encodeModelSplit(model, 'model.onnx.data', opts.inlineLimit);
    const withData = split.externalData.length > 0 ? {...options, externalData: inMemoryFiles(split.externalData)} : options;
    session = await ort.InferenceSession.create(split.model, withData);
  }
  let released = false;
  const release = async (): Promise<void> => {
    if (released) return;
    released = true;
    await session.release();
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
