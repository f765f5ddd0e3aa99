// Where a step's `run` executes. The scheduler only sees this interface, so a distributed executor
// can be added without touching it.
import type {Json, OutputValue, StepCheckpoint, StepKind, StepMemo} from './step-kind.js';

export interface StepExecution {
  /** The instance's cache key: a queue executor's job id, so every run asking for the same work shares one job. */
  key: string;
  kind: StepKind;
  params: Json;
  scratchDir: string;
  resources: Record<string, number>;
  signal: AbortSignal;
  checkpoint: StepCheckpoint;
  memo: StepMemo;
  progress(done: number, total?: number, unit?: string): void;
  log(text: string, stream: 'stdout' | 'stderr'): void;
  metric(name: string, value: number, step?: number): void;
}

export interface Executor {
  readonly name: string;
  execute(execution: StepExecution): Promise<Record<string, OutputValue>>;
}

export const inProcessExecutor: Executor = {
  name: 'in-process',
  async execute(e: StepExecution): Promise<Record<string, OutputValue>> {
    return e.kind.run({
      params: e.params,
      scratchDir: e.scratchDir,
      resources: e.resources,
      signal: e.signal,
      checkpoint: e.checkpoint,
      memo: e.memo,
      progress: (done, total, unit) => e.progress(done, total, unit),
      log: (text, stream = 'stdout') => e.log(text, stream),
      metric: (name, value, step) => e.metric(name, value, step),
    });
  },
};
