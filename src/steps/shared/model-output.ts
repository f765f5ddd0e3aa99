// How steps hand a model on: one .onnx file, or past a size limit a directory of model.onnx plus its
// weights as external data (src/onnx/codec.ts writeModelOutput). Kinds that output models take the
// limit as an option so tests can cross it with small models.
import type {OutputValue} from '../../engine/step-kind.js';
import type {Model} from '../../onnx/ir.js';
import {SINGLE_FILE_LIMIT, writeModelOutput} from '../../onnx/codec.js';

export interface ModelOutputOptions {
  /** Models encoding to more bytes than this are output as a directory with external data; default SINGLE_FILE_LIMIT (1 GiB). */
  singleFileLimit?: number;
}

/** Writes `model` into `scratchDir` as `<name>.onnx` or, past the limit, as the directory `<name>/`. */
export function modelOutput(scratchDir: string, model: Model, name: string, options: ModelOutputOptions = {}): OutputValue {
  return writeModelOutput(scratchDir, model, name, options.singleFileLimit ?? SINGLE_FILE_LIMIT);
}
