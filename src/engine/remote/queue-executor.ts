// Runs step instances on `axx worker` processes through BullMQ queues on Redis. The coordinator keeps
// the DAG, the SQLite store, leases and the run log; a job carries parameters with artifacts by digest
// (artifact-params.ts). The job id is the cache key, so a second coordinator asking for the same
// instance, or this one rerun after a crash, attaches to the job already queued or running.
// A kind with tasks (StepKind.tasks) runs here instead, and each of its tasks is a job on a second
// queue (job id: the task's key), so its fine-grained work spreads over every worker.
import {join} from 'node:path';
import {link, mkdir, readdir} from 'node:fs/promises';
import {relayUpdate, runInProcess, type Executor, type StepExecution, type TaskCounts} from '../executor.js';
import {StepError, type OutputValue, type StepTasks} from '../step-kind.js';
import type {Cas} from '../store/cas.js';
import {encodeArtifactParams, type ArtifactRef} from './artifact-params.js';
import {JobChannel, type JobWatcher} from './job-channel.js';
import {jobEnvironment, STEP_QUEUE, TASK_QUEUE, type JobFailure, type JobUpdate, type StepJobData, type StepJobResult, type TaskJobData, type TaskJobResult} from './step-job.js';
import {coalesce} from '../../util/coalesce.js';

/** How often a step's task counts are reported while they change. */
const TASK_COUNTS_EVERY_MS = 250;

/**
 * Tasks a step keeps in flight on the queue: enough for a lab's workers (they take jobs as they free
 * up), few enough that the coordinator's waiting costs nothing. Results never depend on it.
 */
const TASKS_IN_FLIGHT = 32;

export interface QueueExecutorOptions {
  redisUrl: string;
  /** The coordinator's own store. */
  local: Cas;
  /** The blob tier every machine mounts. */
  shared: Cas;
}

export class QueueExecutor implements Executor {
  readonly name = 'queue';
  readonly #steps: JobChannel;
  readonly #tasks: JobChannel;

  constructor(readonly options: QueueExecutorOptions) {
    const hint = `--blobs ${options.shared.root}`;
    this.#steps = new JobChannel(STEP_QUEUE, options.redisUrl, hint);
    this.#tasks = new JobChannel(TASK_QUEUE, options.redisUrl, hint);
  }

  async execute(e: StepExecution): Promise<Record<string, OutputValue>> {
    if (e.kind.tasks !== undefined) return runInProcess(e, this.#queueTasks(e));
    const {params, artifacts} = encodeArtifactParams(e.params, this.options.local);
    for (const artifact of artifacts) await this.options.shared.copyFrom(this.options.local, artifact);
    const data: StepJobData = {kind: e.kind.name, kindVersion: e.kind.version, environment: jobEnvironment(), params, resources: e.resources};
    const result = await this.#steps.run<StepJobResult>(e.key, data.kind, data, {
      signal: e.signal,
      note: (text) => e.log(text, 'stderr'),
      update: (update) => relayJobUpdate(e, update),
    });
    if (!result.ok) throw jobError(result.error, result.worker);
    return await this.#receive(result, e.scratchDir);
  }

  /** The step's tasks as jobs; the step's artifacts reach the shared tier once each. */
  #queueTasks(e: StepExecution): StepTasks {
    const published = new Set<string>();
    const publish = async (artifacts: ArtifactRef[]): Promise<void> => {
      for (const artifact of artifacts) {
        if (published.has(artifact.digest)) continue;
        await this.options.shared.copyFrom(this.options.local, artifact);
        published.add(artifact.digest);
      }
    };
    const counts: TaskCounts = {queued: 0, running: 0, done: 0};
    // Counts change about three times per task: the dashboard and run log get them a few times a second, and the final ones at once.
    const report = coalesce(() => e.taskCounts({...counts}), TASK_COUNTS_EVERY_MS, () => counts.queued === 0 && counts.running === 0);
    return {
      concurrency: TASKS_IN_FLIGHT,
      run: async (task, payload, key, signal) => {
        const encoded = encodeArtifactParams(payload, this.options.local);
        await publish(encoded.artifacts);
        const data: TaskJobData = {kind: e.kind.name, kindVersion: e.kind.version, environment: jobEnvironment(), task, payload: encoded.params};
        let state: 'queued' | 'running' = 'queued';
        const move = (to: keyof TaskCounts): void => {
          counts[state]--;
          counts[to]++;
          if (to !== 'done') state = to;
          report();
        };
        counts.queued++;
        report();
        const watcher: JobWatcher = {
          signal: AbortSignal.any([e.signal, signal]),
          note: (text) => e.log(`task ${task}: ${text}`, 'stderr'),
          update: (update) => {
            // A retried job starts again on another worker: it stays running.
            if (update.type === 'started' && state === 'queued') move('running');
            else if (update.type === 'refused') e.log(`worker ${update.worker} refused task ${task}: ${update.reason}`, 'stderr');
          },
        };
        try {
          const result = await this.#tasks.run<TaskJobResult>(taskJobId(key), `${data.kind}/${task}`, data, watcher);
          if (!result.ok) throw jobError(result.error, result.worker);
          return result.value;
        } finally {
          move('done');
        }
      },
    };
  }

  /** Copies the outputs from the shared tier into the local store and links them into the scratch dir the engine publishes from. */
  async #receive(result: Extract<StepJobResult, {ok: true}>, scratchDir: string): Promise<Record<string, OutputValue>> {
    const {local, shared} = this.options;
    const outputs: Record<string, OutputValue> = {};
    for (const [name, output] of Object.entries(result.outputs)) {
      if (output.type === 'value') {
        outputs[name] = {value: output.value};
        continue;
      }
      await local.copyFrom(shared, output);
      const target = join(scratchDir, `output-${name}`);
      if (output.type === 'file') {
        await link(local.blobPath(output.digest), target);
        outputs[name] = {file: target};
      } else {
        await linkTree(local.dirPath(output.digest), target);
        outputs[name] = {dir: target};
      }
    }
    return outputs;
  }

  async close(): Promise<void> {
    await this.#steps.close();
    await this.#tasks.close();
  }
}

/** BullMQ job ids may not contain ":", which namespaced keys ("approx/search:<digest>") do. */
export function taskJobId(key: string): string {
  return key.replaceAll('%', '%25').replaceAll(':', '%3A');
}

function jobError(failure: JobFailure, worker: string): Error {
  const {message, hint, param, stack} = failure;
  if (failure.stepError) return new StepError(`${message} (on worker ${worker})`, hint, param);
  const error = new Error(`${message} (on worker ${worker})`);
  if (stack !== undefined) error.stack = stack;
  return error;
}

function relayJobUpdate(e: StepExecution, update: JobUpdate): void {
  if (update.type === 'started') {
    e.log(`running on worker ${update.worker}`, 'stderr');
    e.placed(update.worker);
  } else if (update.type === 'refused') e.log(`worker ${update.worker} refused the job: ${update.reason}`, 'stderr');
  else relayUpdate(e, update);
}

/** A writable tree of hard links to a read-only store tree (the engine moves files out of it). */
async function linkTree(source: string, target: string): Promise<void> {
  await mkdir(target, {recursive: true});
  for (const entry of await readdir(source, {withFileTypes: true})) {
    if (entry.isDirectory()) await linkTree(join(source, entry.name), join(target, entry.name));
    else await link(join(source, entry.name), join(target, entry.name));
  }
}
