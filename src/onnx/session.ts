// onnxruntime-node sessions with explicit, reproducible options. Callers pass thread counts from
// their resource grant; nothing here reads the environment. Sessions hold native memory, so the
// wrapper is Disposable (`using session = await createSession(...)`) and release() is idempotent.
import * as ort from 'onnxruntime-node';
import {encodeModel} from './codec.js';
import type {Model} from './ir.js';

export interface SessionOptions {
  /** Threads for one operator; default 1 (deterministic and fair to concurrently running steps). */
  intraOpNumThreads?: number;
  /** Default 'all'. Use 'disabled' to run the graph exactly as written. */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
}

export interface ModelSession extends Disposable {
  readonly session: ort.InferenceSession;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, ort.Tensor>, fetches?: readonly string[]): Promise<Record<string, ort.Tensor>>;
  release(): Promise<void>;
}

/** The one execution provider sessions use. */
const EXECUTION_PROVIDER = 'cpu';

/** What a session's numbers depend on besides the model and its inputs: part of every memo of ORT results. */
export interface RuntimeIdentity {
  onnxruntime: string;
  executionProvider: string;
}

/** Read from the loaded onnxruntime binding, so an upgrade changes it without anyone bumping a constant. */
export function runtimeIdentity(): RuntimeIdentity {
  return {onnxruntime: ort.env.versions.node ?? ort.env.versions.common, executionProvider: EXECUTION_PROVIDER};
}

/** What steps receive instead of calling onnxruntime directly, so tests and benches can wrap it. */
export type SessionFactory = (model: Model | Uint8Array | string, opts?: SessionOptions) => Promise<ModelSession>;

/** A session from an IR model, serialized model bytes, or an .onnx path (which lets ORT resolve external data). */
export const createSession: SessionFactory = async (model, opts = {}) => {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: [EXECUTION_PROVIDER],
    intraOpNumThreads: opts.intraOpNumThreads ?? 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: opts.graphOptimizationLevel ?? 'all',
    // Errors only: ORT's warnings (e.g. unused initializers) would interleave with axx's own output.
    logSeverityLevel: 3,
  };
  const session =
    typeof model === 'string'
      ? await ort.InferenceSession.create(model, options)
      : await ort.InferenceSession.create(model instanceof Uint8Array ? model : encodeModel(model), options);
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
