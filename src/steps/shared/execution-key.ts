// What of the execution provider a model-running step's numbers depend on, for its cache key. The
// evaluation memo's scope has it too (runtimeIdentity), but a step's own result must re-run when it
// changes, not only its memoised cells.
import type {Json} from '../../engine/step-kind.js';
import {CPU, executionSettings, parseDevice} from '../../onnx/device.js';

/** `device` as the step's parameter spells it; kinds without one run their sessions on the CPU. */
export function executionKey(device = 'cpu'): Json {
  return executionSettings(parseDevice(device) ?? CPU);
}
