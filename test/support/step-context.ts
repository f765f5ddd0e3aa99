// A StepContext for running one step kind directly in a test, recording what the step reports.
import {mkdtempSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {FileDigestMemo} from '../../src/engine/file-digest.js';
import type {HostEnvironment, Json, KeyContext, StepContext, StepMemo, StepTasks} from '../../src/engine/step-kind.js';

const fileDigests = new FileDigestMemo();

/** What the engine offers keyExtras: the file-digest service, here without a persistent backing, and an empty environment. */
export const keyContext: KeyContext = {digest: (path) => fileDigests.digest(path), hostEnvironment: {}};

/** For contexts of kinds without tasks: running one is a mistake in the test. */
export const NO_TASKS: StepTasks = {
  concurrency: 1,
  run: (name) => Promise.reject(new Error(`this test context runs no tasks (asked for "${name}"): give it the kind's (localTasks)`)),
};

export interface CheckpointSlot {
  saved?: {state: Json; files: Record<string, Uint8Array>};
}

export interface RecordingContext<P> extends StepContext<P> {
  logs: string[];
  /** Every progress report as [done, total]. */
  progressed: [number, number | undefined][];
  /** Every metric as [name, value]. */
  metrics: [string, number][];
  controller: AbortController;
}

export interface StepContextOptions {
  /** Directory under which a fresh scratch dir is made (default: the OS temp dir). */
  scratchRoot?: string;
  cpu?: number;
  /** Where checkpoints go; without it, save is a no-op and load finds nothing. */
  checkpoint?: CheckpointSlot;
  /** Called on each progress report, e.g. to abort at a given point. */
  onProgress?: (done: number, controller: AbortController) => void;
  controller?: AbortController;
  /** The memo the step sees (e.g. a real store's `memo.forKind(kind)`); without it, the step has none. */
  memo?: StepMemo;
  /** The environment the step sees (default: none). */
  hostEnvironment?: HostEnvironment;
}

export function stepContext<P>(params: P, options: StepContextOptions = {}): RecordingContext<P> {
  const controller = options.controller ?? new AbortController();
  const slot = options.checkpoint;
  const ctx: RecordingContext<P> = {
    params,
    scratchDir: mkdtempSync(join(options.scratchRoot ?? tmpdir(), 'axx-step-')),
    logs: [],
    progressed: [],
    metrics: [],
    controller,
    progress: (done, total) => {
      ctx.progressed.push([done, total]);
      options.onProgress?.(done, controller);
    },
    log: (text) => void ctx.logs.push(text),
    metric: (name, value) => void ctx.metrics.push([name, value]),
    checkpoint: {
      save: async (state, files = {}) => {
        if (slot) slot.saved = {state, files};
      },
      load: async () => slot?.saved,
      discard: async () => {
        if (slot) delete slot.saved;
      },
    },
    signal: controller.signal,
    hostEnvironment: options.hostEnvironment ?? {},
    ...(options.memo === undefined ? {} : {memo: options.memo}),
    tasks: NO_TASKS,
    resources: {cpu: options.cpu ?? 1},
  };
  return ctx;
}
