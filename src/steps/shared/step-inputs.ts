// Reading the files that step parameters name (a model, a calibration), with the library's typed
// errors turned into StepErrors that point at the parameter; any other exception stays a bug.
import {CalibrationFormatError, readCalibrationFile, type CalibrationFile} from '../../approx/calibration-format.js';
import {StepError} from '../../engine/step-kind.js';
import {OnnxDecodeError, readModelFile} from '../../onnx/codec.js';
import type {Model} from '../../onnx/ir.js';

/** A model parameter: one .onnx file or a model directory (model.onnx + external data). */
export async function readModelParam(path: string, param: string): Promise<Model> {
  try {
    return readModelFile(path);
  } catch (error) {
    if (error instanceof OnnxDecodeError) throw new StepError(`${path} is not a usable ONNX model: ${error.message}`, 'pass the model output of a load/model step', param);
    throw error;
  }
}

export async function readCalibrationParam(path: string, param: string, hint: string): Promise<CalibrationFile> {
  try {
    return await readCalibrationFile(path);
  } catch (error) {
    if (error instanceof CalibrationFormatError) throw new StepError(error.message, hint, param);
    throw error;
  }
}
