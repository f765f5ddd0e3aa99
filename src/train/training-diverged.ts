// The training loop's one expected failure, in a module of its own so steps can recognise it without
// loading the loop (and onnxruntime) when a pipeline is only planned.

/** The loss stopped being a finite number: the optimisation diverged (usually a learning rate too high). */
export class TrainingDivergedError extends Error {
  constructor(
    readonly epoch: number,
    readonly batch: number,
    readonly loss: number,
  ) {
    super(`training diverged at epoch ${epoch}, batch ${batch}: loss ${loss}`);
    this.name = 'TrainingDivergedError';
  }
}
