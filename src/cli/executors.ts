// The executors `run` can use; the child-process one starts src/cli/step-child (compiled, or through
// tsx when axx itself runs from source).
import {fileURLToPath} from 'node:url';
import {childProcessExecutor} from '../engine/child-process-executor.js';
import {inProcessExecutor, type Executor} from '../engine/executor.js';
import type {ExecutorName} from '../engine/pipeline.js';
import {siblingEntry} from '../util/module-entry.js';

export function executors(): Record<ExecutorName, Executor> {
  const child = siblingEntry(import.meta.url, 'step-child');
  return {
    'in-process': inProcessExecutor,
    'child-process': childProcessExecutor({entry: fileURLToPath(child.url), execArgv: child.execArgv}),
  };
}
