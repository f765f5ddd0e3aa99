// Where a step's `run` executes. The scheduler only sees this interface, so a distributed executor
// can be added without touching it.
import type {HostEnvironment, Json, OutputValue, StepCheckpoint, StepKind, StepMemo, StepTasks} from './step-kind.js';
import {localTasks} from './tasks.js';

export interface StepExecution {
  /** The instance's cache key: a queue executor's job id, so every run asking for the same work shares one job. */
  key: string;
  kind: StepKind;
  params: Json;
  scratchDir: string;
  resources: Record<string, number>;
  signal: AbortSignal;
  hostEnvironment: HostEnvironment;
  checkpoint: StepCheckpoint;
  memo: StepMemo;
  progress(done: number, total?: number, unit?: string): void;
  log(text: string, stream: 'stdout' | 'stderr'): void;
  metric(name: string, value: number, step?: number): void;
  /** The step runs on this worker (a queue executor's). */
  placed(worker: string): void;
  /** How many of the step's tasks are waiting on the queue, running on workers, done (a queue executor's). */
  taskCounts(counts: TaskCounts): void;
}

export interface TaskCounts {
  queued: number;
  running: number;
  done: number;
}

/** What a running step reports, as it travels between processes (child-process protocol, queue jobs). */
export type ExecutionUpdate =
  | {type: 'progress'; done: number; total?: number; unit?: string}
  | {type: 'log'; text: string; stream: 'stdout' | 'stderr'}
  | {type: 'metric'; name: string; value: number; step?: number};

/** Hands an update that arrived from another process to the execution it belongs to. */
export function relayUpdate(e: StepExecution, update: ExecutionUpdate): void {
  switch (update.type) {
    case 'progress':
      return e.progress(update.done, update.total, update.unit);
    case 'log':
      return e.log(update.text, update.stream);
    case 'metric':
      return e.metric(update.name, update.value, update.step);
  }
}

export interface Executor {
  readonly name: string;
  execute(execution: StepExecution): Promise<Record<string, OutputValue>>;
}

export const inProcessExecutor: Executor = {
  name: 'in-process',
  execute: (e) => runInProcess(e, localTasks(e.kind, e.resources, e.scratchDir)),
};

/** Runs the kind's `run` in this process, its tasks through `tasks`. */
export function runInProcess(e: StepExecution, tasks: StepTasks): Promise<Record<string, OutputValue>> {
  return e.kind.run({
    params: e.params,
    scratchDir: e.scratchDir,
    resources: e.resources,
    signal: e.signal,
    hostEnvironment: e.hostEnvironment,
    checkpoint: e.checkpoint,
    memo: e.memo,
    tasks,
    progress: (done, total, unit) => e.progress(done, total, unit),
    log: (text, stream = 'stdout') => e.log(text, stream),
    metric: (name, value, step) => e.metric(name, value, step),
  });
}
