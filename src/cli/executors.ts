// The executors `run` can use; the child-process one re-enters TypeScript through tsx's loader.
import {createRequire} from 'node:module';
import {dirname, join} from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';
import {childProcessExecutor} from '../engine/child-process-executor.js';
import {inProcessExecutor, type Executor} from '../engine/executor.js';
import type {ExecutorName} from '../engine/pipeline.js';

export function executors(): Record<ExecutorName, Executor> {
  const tsxDir = dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  return {
    'in-process': inProcessExecutor,
    'child-process': childProcessExecutor({
      entry: fileURLToPath(new URL('./step-child.ts', import.meta.url)),
      execArgv: ['--import', pathToFileURL(join(tsxDir, 'dist', 'loader.mjs')).href],
    }),
  };
}
