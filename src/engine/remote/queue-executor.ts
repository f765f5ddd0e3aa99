// Runs step instances on `axx worker` processes through a BullMQ queue on Redis. The coordinator keeps
// the DAG, the SQLite store, leases and the run log; a job carries parameters with artifacts by digest
// (artifact-params.ts). The job id is the cache key, so a second coordinator asking for the same
// instance, or this one rerun after a crash, attaches to the job already queued or running.
import {Queue, QueueEvents, type Job} from 'bullmq';
import {join} from 'node:path';
import {link, mkdir, readdir} from 'node:fs/promises';
import type {Executor, StepExecution} from '../executor.js';
import {StepError, type OutputValue} from '../step-kind.js';
import type {Cas} from '../store/cas.js';
import {encodeArtifactParams} from './artifact-params.js';
import {asConnection, redactRedisUrl, redisClient} from './resp-client.js';
import {jobEnvironment, STEP_QUEUE, type JobUpdate, type StepJobData, type StepJobResult} from './step-job.js';

/** How often a waiting job checks that some worker is connected. */
const WORKER_CHECK_MS = 2_000;
/** Finished jobs (their results are in the store by then) are dropped from Redis after a day. */
const KEEP_FINISHED_S = 24 * 3600;

export interface QueueExecutorOptions {
  redisUrl: string;
  /** The coordinator's own store. */
  local: Cas;
  /** The blob tier every machine mounts. */
  shared: Cas;
}

export class QueueExecutor implements Executor {
  readonly name = 'queue';
  readonly #queue: Queue;
  readonly #events: QueueEvents;
  readonly #watching = new Map<string, StepExecution>();
  /** BullMQ leaves clients it was handed open; close() quits them. */
  readonly #clients;

  constructor(readonly options: QueueExecutorOptions) {
    this.#clients = [redisClient(options.redisUrl), redisClient(options.redisUrl)] as const;
    this.#queue = new Queue(STEP_QUEUE, {connection: asConnection(this.#clients[0])});
    this.#events = new QueueEvents(STEP_QUEUE, {connection: asConnection(this.#clients[1])});
    // Connection drops are retried by the client; waiting steps say so through their logs.
    this.#queue.on('error', () => undefined);
    this.#events.on('error', () => undefined);
    this.#events.on('progress', ({jobId, data}) => {
      const execution = this.#watching.get(jobId);
      if (execution !== undefined) relayUpdate(execution, data as JobUpdate);
    });
  }

  async execute(e: StepExecution): Promise<Record<string, OutputValue>> {
    const {params, artifacts} = encodeArtifactParams(e.params, this.options.local);
    for (const artifact of artifacts) await this.options.shared.copyFrom(this.options.local, artifact);
    const data: StepJobData = {kind: e.kind.name, kindVersion: e.kind.version, environment: jobEnvironment(), params, resources: e.resources};
    this.#watching.set(e.key, e);
    try {
      await abortable(this.#events.waitUntilReady(), e.signal);
      const job = await abortable(this.#submit(e, data), e.signal);
      const result = (await abortable(this.#untilFinished(job, e), e.signal)) as StepJobResult;
      if (!result.ok) {
        const {message, hint, param, stack} = result.error;
        if (result.error.stepError) throw new StepError(`${message} (on worker ${result.worker})`, hint, param);
        const error = new Error(`${message} (on worker ${result.worker})`);
        if (stack !== undefined) error.stack = stack;
        throw error;
      }
      return await this.#receive(result, e.scratchDir);
    } finally {
      this.#watching.delete(e.key);
    }
  }

  /** Adds the job, or attaches to the one with this key already queued, running or done well. */
  async #submit(e: StepExecution, data: StepJobData): Promise<Job> {
    const existing = await this.#queue.getJob(e.key);
    if (existing !== undefined) {
      const state = await existing.getState();
      const result = existing.returnvalue as StepJobResult | null;
      const usable = state !== 'failed' && !(state === 'completed' && (result === null || !result.ok));
      if (usable) {
        e.log(`attached to job ${e.key.slice(0, 12)} already ${state} on the queue`, 'stderr');
        return existing;
      }
      await existing.remove();
    }
    return this.#queue.add(data.kind, data, {jobId: e.key, attempts: 1, removeOnComplete: {age: KEEP_FINISHED_S}, removeOnFail: {age: KEEP_FINISHED_S}});
  }

  /** Waits for the job; says within seconds when no worker is connected, and again when one is. */
  async #untilFinished(job: Job, e: StepExecution): Promise<unknown> {
    let alone = false;
    const check = setInterval(() => {
      void (async () => {
        const workers = await this.#queue.getWorkersCount();
        if ((workers === 0) === alone) return;
        alone = workers === 0;
        const where = redactRedisUrl(this.options.redisUrl);
        e.log(alone ? `no worker reachable on ${where}: waiting (start one with: axx worker --redis ${where} --blobs ${this.options.shared.root})` : `a worker connected to ${where}`, 'stderr');
      })().catch(() => undefined);
    }, WORKER_CHECK_MS);
    try {
      return await job.waitUntilFinished(this.#events);
    } finally {
      clearInterval(check);
    }
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
    await this.#events.close();
    await this.#queue.close();
    for (const client of this.#clients) await client.quit();
  }
}

function relayUpdate(e: StepExecution, update: JobUpdate): void {
  switch (update.type) {
    case 'started':
      e.log(`running on worker ${update.worker}`, 'stderr');
      return;
    case 'refused':
      e.log(`worker ${update.worker} refused the job: ${update.reason}`, 'stderr');
      return;
    case 'progress':
      e.progress(update.done, update.total, update.unit);
      return;
    case 'log':
      e.log(update.text, update.stream);
      return;
    case 'metric':
      e.metric(update.name, update.value, update.step);
      return;
  }
}

/** A writable tree of hard links to a read-only store tree (the engine moves files out of it). */
async function linkTree(source: string, target: string): Promise<void> {
  await mkdir(target, {recursive: true});
  for (const entry of await readdir(source, {withFileTypes: true})) {
    if (entry.isDirectory()) await linkTree(join(source, entry.name), join(target, entry.name));
    else await link(join(source, entry.name), join(target, entry.name));
  }
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('interrupted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new Error('interrupted'));
    signal.addEventListener('abort', onAbort, {once: true});
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
