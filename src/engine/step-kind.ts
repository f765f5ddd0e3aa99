// The contract between the engine and a step kind. The engine knows kinds only through this
// interface and a registry; each `src/steps/<kind>.ts` exports one `StepKind`.

import type {Json} from '../util/json.js';
import {plainAxx, type HintCommand} from './hint-command.js';

export type {Json};

/**
 * What an output is. `file` and `dir` outputs live in the content-addressed store; `value` outputs
 * are small JSON values kept in the SQLite index. `path` is a file or a directory, whichever `run`
 * returns (a model is one .onnx file, or a directory with its external data when it is too large);
 * only parameters declaring `x-axx-input` type `path` take it. `format` is a semantic tag ("onnx",
 * "dataset", "calibration", "assignment" …) checked between a producer's output and the consuming parameter.
 */
export interface OutputDecl {
  type: 'file' | 'dir' | 'path' | 'value';
  format?: string;
  description?: string;
}

/**
 * A parameter that takes another step's output declares it in its JSON Schema with
 * `"x-axx-input": {"type": "file", "format": "onnx"}` (or "dir"/"value"); for a list of a
 * matrix step's outputs, put it on the array's `items`. At run time such a parameter holds an
 * absolute, read-only path (file/dir) or the JSON value.
 */
export interface InputDecl {
  /** 'path' accepts a file, directory or path output (or a literal path on disk). */
  type: 'file' | 'dir' | 'value' | 'path';
  format?: string;
}

/** What `run` returns for each declared output: a path inside `ctx.scratchDir`, or a JSON value. */
export type OutputValue = {file: string} | {dir: string} | {value: Json};

export interface StepCheckpoint {
  /** Persist state that survives a crash; outside the cache key; deleted when the step succeeds. */
  save(state: Json, files?: Record<string, Uint8Array>): Promise<void>;
  /** The last saved state of this step's key, or undefined. */
  load(): Promise<{state: Json; files: Record<string, Uint8Array>} | undefined>;
  /** Deletes the saved state, so the next attempt starts over (a checkpoint this code cannot resume from). */
  discard(): Promise<void>;
}

/**
 * A content-keyed JSON store shared by all steps and runs (memoised evaluations a search reuses).
 * Outside the cache key, so a value must depend only on its key's content. Shared across kinds:
 * start keys with a namespace, your kind's name or that of the library whose entries several kinds
 * share ("approx/search:<digest>").
 */
export interface StepMemo {
  get(key: string): Promise<Json | undefined>;
  set(key: string, value: Json): Promise<void>;
}

/**
 * A pure function a kind runs many times within one step (one evaluation of a search): JSON payload in,
 * JSON result out, depending on nothing else. The engine runs it in process, or with `axx run --redis`
 * as a job on a worker, so many of them spread over machines. `scratchDir` is a directory of the process
 * running it (the step's scratch directory in process, a fresh one per job on a worker) for files that
 * live no longer than the task; the task removes what it writes there.
 */
export type StepTask = (payload: Json, signal: AbortSignal, scratchDir: string) => Promise<Json>;

/** Runs the kind's declared tasks (StepKind.tasks) where the engine decides. */
export interface StepTasks {
  /** How many tasks are worth having in flight at once: the granted cpus in process, more on a queue of workers. */
  readonly concurrency: number;
  /**
   * Runs task `name` on `payload`. `key` names the result by content, across kinds, like a memo key
   * (a queue's job id: two runs asking for the same key share one job). Store paths in the payload
   * reach a worker by digest, as a step's parameters do.
   */
  run(name: string, payload: Json, key: string, signal: AbortSignal): Promise<Json>;
}

/**
 * The variables of the environment axx was started in, read once by the CLI and handed down (never
 * read from process.env below it). A kind passes on only what it declares and keys on it.
 */
export type HostEnvironment = Readonly<Record<string, string>>;

export interface StepContext<P = Record<string, unknown>> {
  /** Parameters after schema defaults, with references resolved (see InputDecl). */
  params: P;
  /** A fresh private directory; outputs are written here and moved into the store on success. */
  scratchDir: string;
  /** Report progress; total/unit optional ("batch", "eval", "epoch" …). */
  progress(done: number, total?: number, unit?: string): void;
  log(text: string, stream?: 'stdout' | 'stderr'): void;
  /** Record a metric; `step` is an optional x-coordinate (iteration, epoch). */
  metric(name: string, value: number, step?: number): void;
  checkpoint: StepCheckpoint;
  /** The engine's memo (see StepMemo); absent where the caller offers none (hand-built test contexts). */
  memo?: StepMemo;
  /** Runs this kind's `tasks`: in this process, or as jobs on workers. */
  tasks: StepTasks;
  signal: AbortSignal;
  hostEnvironment: HostEnvironment;
  /** Resource tokens granted to this step (e.g. {cpu: 2}); steps size their thread pools from it. */
  resources: Record<string, number>;
}

/** An expected failure of a step (bad input, missing file …): message for the user and a hint. */
export class StepError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    /** Dotted path of the parameter at fault ("with.model"), so the engine can point at its YAML line. */
    readonly param?: string,
    /**
     * The axx command the hint names, as its arguments (["multipliers"]); the hint spells it with plain `axx`
     * (`axx multipliers`), and `hintAs` respells it the way the user invoked axx.
     */
    readonly command?: readonly string[],
  ) {
    super(message);
    this.name = 'StepError';
  }

  /** The hint with its command written by `write` (the CLI's: "npx axx multipliers"). */
  hintAs(write: HintCommand): string | undefined {
    return this.hint !== undefined && this.command !== undefined ? this.hint.replace(plainAxx(this.command), write(this.command)) : this.hint;
  }
}

/** Offered to keyExtras by the engine. */
export interface KeyContext {
  /** Content digests of paths, memoised across runs on (dev, inode, size, mtime). */
  digest(path: string): Promise<{type: 'file' | 'dir'; digest: string}>;
  /** The environment the step will see (StepContext.hostEnvironment); key on what of it the kind uses. */
  hostEnvironment: HostEnvironment;
}

export interface StepKind<P = any> {
  /** As written after `uses:` in a pipeline, e.g. "exec", "load/model". */
  name: string;
  /** Bumped whenever results would change for the same params and inputs; part of the cache key. */
  version: number;
  description: string;
  /** JSON Schema (draft 2020-12 / ajv) of `with:`. */
  schema: Record<string, unknown>;
  outputs: Record<string, OutputDecl>;
  /**
   * Optional: outputs that depend on the step's `with` (exec declares its outputs there). Called with
   * the validated parameters (defaults applied, references unresolved); overrides `outputs`.
   */
  outputsOf?(params: P): Record<string, OutputDecl>;
  /**
   * Optional: extra content the cache key must cover, e.g. digests of files a param names on disk
   * (exec's declared inputs, a user ONNX path), environment versions. Return JSON-serialisable data.
   */
  keyExtras?(params: P, key: KeyContext): Promise<Json> | Json;
  /**
   * Optional: where this kind prefers to run; 'child-process' for kinds driving native code that
   * might crash. A step's `executor:` and `axx run --executor` override it.
   */
  executor?: 'in-process' | 'child-process';
  /**
   * Optional: what a resumed run keeps of a step of this kind that was interrupted while running, in words
   * that follow the kind's name ("resumes from its last checkpoint"); the dashboard's Ctrl-C line shows it.
   * Absent: the step restarts from scratch.
   */
  interruptNote?: string;
  /** Default seconds an attempt may run before it is stopped, overridable per step (`timeout:`); none if absent. */
  timeout?: number;
  /** Default resource tokens, overridable per step in YAML (`resources:`). */
  resources?: Record<string, number>;
  /**
   * Optional: the kind's fine-grained work, run through `ctx.tasks` (see StepTask). A kind with tasks
   * runs on the coordinator of a distributed run, and its tasks on the workers.
   */
  tasks?: Record<string, StepTask>;
  run(ctx: StepContext<P>): Promise<Record<string, OutputValue>>;
}
