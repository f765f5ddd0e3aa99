// An onnxruntime session over the training graph of a model, holding the trained weights as
// Float32Arrays that the optimiser updates in place between runs.
import * as ort from 'onnxruntime-node';
import type {Model, Tensor} from '../onnx/ir.js';
import {createSession, type ModelSession} from '../onnx/session.js';
import {buildTrainingGraph, gradientName, LABELS_INPUT, LOSS_OUTPUT} from './training-graph.js';
import {probeShapes} from './shape-probe.js';
import type {StraightThroughRegion} from './straight-through.js';

export interface TrainingSessionOptions {
  /** Name of the model's image input; default: its first input. */
  input?: string;
  /** [C, H, W]. */
  imageShape: readonly number[];
  threads?: number;
  trainable?: (tensor: Tensor) => boolean;
  straightThrough?: StraightThroughRegion[];
}

export interface StepResult {
  loss: number;
  logits: Float32Array;
  /** Gradients in parameter order. */
  grads: Float32Array[];
}

export class TrainingSession implements Disposable {
  private constructor(
    readonly model: Model,
    readonly input: string,
    readonly logits: string,
    readonly paramNames: readonly string[],
    readonly paramDims: readonly (readonly number[])[],
    /** Current weights; optimisers update them in place. */
    readonly params: readonly Float32Array[],
    readonly session: ModelSession,
  ) {}

  static async create(model: Model, options: TrainingSessionOptions): Promise<TrainingSession> {
    const input = options.input ?? model.graph.inputs[0]?.name;
    if (input === undefined) throw new Error('the model has no inputs');
    // Probe with a batch of 2 so that the batch axis is never mistaken for a broadcast axis.
    const probeBatch = 2;
    const example = new ort.Tensor('float32', new Float32Array(probeBatch * options.imageShape.reduce((n, d) => n * d, 1)), [probeBatch, ...options.imageShape]);
    const shapes = await probeShapes(model, {[input]: example});
    const training = buildTrainingGraph(model, {
      shapes,
      ...(options.trainable ? {trainable: options.trainable} : {}),
      ...(options.straightThrough ? {straightThrough: options.straightThrough} : {}),
    });
    const byName = new Map(model.graph.initializers.map((t) => [t.name, t]));
    const tensors = training.params.map((p) => byName.get(p)!);
    const session = await createSession(training.model, {intraOpNumThreads: options.threads ?? 1});
    return new TrainingSession(
      model,
      input,
      training.logits,
      training.params,
      tensors.map((t) => t.dims),
      tensors.map((t) => Float32Array.from(t.data as Float32Array)),
      session,
    );
  }

  /** Forward + backward on one batch: `images` holds `batch` images, `labels` their classes. */
  async run(images: Float32Array, labels: BigInt64Array, batch: number, imageShape: readonly number[]): Promise<StepResult> {
    const size = imageShape.reduce((n, d) => n * d, 1);
    const feeds: Record<string, ort.Tensor> = {
      [this.input]: new ort.Tensor('float32', images.subarray(0, batch * size), [batch, ...imageShape]),
      [LABELS_INPUT]: new ort.Tensor('int64', labels.subarray(0, batch), [batch]),
    };
    this.paramNames.forEach((name, i) => (feeds[name] = new ort.Tensor('float32', this.params[i]!, this.paramDims[i]!)));
    const out = await this.session.run(feeds);
    return {
      loss: out[LOSS_OUTPUT]!.data[0] as number,
      logits: out[this.logits]!.data as Float32Array,
      grads: this.paramNames.map((name) => out[gradientName(name)]!.data as Float32Array),
    };
  }

  /** The inference model with the current weights (copied). */
  trainedModel(): Model {
    const current = new Map(this.paramNames.map((name, i) => [name, this.params[i]!]));
    const initializers = this.model.graph.initializers.map((t) => {
      const data = current.get(t.name);
      return data === undefined ? t : {...t, data: Float32Array.from(data)};
    });
    return {...this.model, graph: {...this.model.graph, initializers}};
  }

  [Symbol.dispose](): void {
    this.session[Symbol.dispose]();
  }
}
