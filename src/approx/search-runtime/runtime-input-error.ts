// The runtime's expected failure, in a module of its own so that callers can recognise it without loading
// onnxruntime with the runtime.

export type RuntimeField = 'model' | 'calibration' | 'dataset' | 'multipliers' | 'layers' | 'exclude' | 'holdout';

export class RuntimeInputError extends Error {
  constructor(
    message: string,
    readonly field: RuntimeField,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'RuntimeInputError';
  }
}
