// What travels through the queue for one step instance: the job a coordinator adds (job id = the
// instance's cache key), the updates a worker streams back while it runs, and the result it returns.
// Paths never travel: artifacts go by digest through the shared blob tier (see artifact-params.ts).
import {readFileSync} from 'node:fs';
import {keyEnvironment} from '../cache-key.js';
import type {ExecutionUpdate} from '../executor.js';
import type {Json} from '../step-kind.js';

/** The BullMQ queue of whole step instances. */
export const STEP_QUEUE = 'axx-steps';
/** The BullMQ queue of steps' tasks (StepKind.tasks: one evaluation of a search …). */
export const TASK_QUEUE = 'axx-tasks';

/** What a worker must match to reproduce a key: the key covers the onnxruntime version, the kind version and axx itself. */
export interface JobEnvironment {
  axx: string;
  onnxruntime: string;
}

export interface StepJobData {
  kind: string;
  kindVersion: number;
  environment: JobEnvironment;
  /** Parameters with every store path replaced by an ArtifactPlaceholder. */
  params: Json;
  resources: Record<string, number>;
}

export interface JobArtifact {
  type: 'file' | 'dir';
  digest: string;
  size: number;
}

export type JobOutput = JobArtifact | {type: 'value'; value: Json};

export interface JobFailure {
  /** A StepError (bad input …) rather than a bug: shown with its hint and parameter. */
  stepError: boolean;
  message: string;
  hint?: string;
  param?: string;
  stack?: string;
}

/** Step failures are values, so the queue's own failures mean only "no worker could finish it". */
export type StepJobResult = {ok: true; worker: string; outputs: Record<string, JobOutput>} | {ok: false; worker: string; error: JobFailure};

/** One task of a step that runs on the coordinator (job id: the task's key). */
export interface TaskJobData {
  kind: string;
  kindVersion: number;
  environment: JobEnvironment;
  task: string;
  /** The payload with every store path replaced by an ArtifactPlaceholder. */
  payload: Json;
}

export type TaskJobResult = {ok: true; worker: string; value: Json} | {ok: false; worker: string; error: JobFailure};

/** Streamed through BullMQ progress events, in order. */
export type JobUpdate = ExecutionUpdate | {type: 'started'; worker: string} | {type: 'refused'; worker: string; reason: string};

let axxVersion: string | undefined;

export function jobEnvironment(): JobEnvironment {
  axxVersion ??= (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {version: string}).version;
  return {axx: axxVersion, onnxruntime: keyEnvironment().onnxruntime};
}

export function describeEnvironment(environment: JobEnvironment): string {
  return `axx ${environment.axx}, onnxruntime ${environment.onnxruntime}`;
}

/** Redis keys beside BullMQ's own (which live under "bull:"). */
export const REDIS_KEYS = {
  workers: 'axx:workers',
  memo: 'axx:memo',
  checkpoint: (jobId: string) => `axx:checkpoint:${jobId}`,
} as const;

/** What a worker announces in REDIS_KEYS.workers, refreshed every WORKER_HEARTBEAT_MS. */
export interface WorkerAnnouncement {
  id: string;
  host: string;
  pid: number;
  concurrency: number;
  resources: Record<string, number>;
  allowExec: boolean;
  environment: JobEnvironment;
  startedAt: number;
  seenAt: number;
  running: {jobId: string; kind: string; since: number}[];
}

export const WORKER_HEARTBEAT_MS = 2_000;
/** An announcement older than this is a worker that died without saying goodbye. */
export const WORKER_STALE_MS = 10_000;
