// Runs step instances on `axx worker` processes through a BullMQ queue on Redis. The coordinator keeps
// the DAG, the SQLite store, leases and the run log; a job carries parameters with artifacts by digest
// (artifact-params.ts). The job id is the cache key, so a second coordinator asking for the same
// instance, or this one rerun after a crash, attaches to the job already queued or running.
import {Queue, QueueEvents, type Job} from 'bullmq';
import {join} from 'node:path';
import {link, mkdir, readdir} from 'node:fs/promises';
import {relayUpdate, type Executor, type StepExecution} from '../executor.js';
import {StepError, type OutputValue} from '../step-kind.js';
import type {Cas} from '../store/cas.js';
import {encodeArtifactParams} from './artifact-params.js';
import {asConnection, redactRedisUrl, redisClient} from './redis.js';
import {jobEnvironment, STEP_QUEUE, type JobUpdate, type StepJobData, type StepJobResult} from './step-job.js';

/** How often a waiting job checks that some worker is connected. */
const WORKER_CHECK_MS = 2_000;
/** Finished jobs (their results are in the store by then) are dropped from Redis after a day. */
const KEEP_FINISHED_S = 24 * 3600;

/** BullMQ failed the job itself (a job that took down two workers): no worker could finish it. */
class QueueGaveUp extends Error {}

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
    // Every job in flight waits with its own listeners (BullMQ's waitUntilFinished); there is no leak to warn of.
    this.#queue.setMaxListeners(0);
    this.#events.setMaxListeners(0);
    // Connection drops are retried by the client; waiting steps say so through their logs.
    this.#queue.on('error', () => undefined);
    this.#events.on('error', () => undefined);
    this.#events.on('progress', ({jobId, data}) => {
      const execution = this.#watching.get(jobId);
      if (execution !== undefined) relayJobUpdate(execution, data as JobUpdate);
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
      const result = await abortable(this.#untilFinished(job, e, data), e.signal);
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

  /**
   * Waits for the job through queue events, and every few seconds also asks Redis directly: that
   * catches an event missed while the connection was down, re-adds a job a restarted Redis lost, and
   * says within seconds when no worker is connected (and again when one is).
   */
  async #untilFinished(first: Job, e: StepExecution, data: StepJobData): Promise<StepJobResult> {
    const where = redactRedisUrl(this.options.redisUrl);
    let alone = false;
    let job = first;
    const finished = new AbortController();
    const poll = async (): Promise<StepJobResult> => {
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, WORKER_CHECK_MS));
        if (finished.signal.aborted || e.signal.aborted) return new Promise<never>(() => undefined);
        try {
          const state = await this.#queue.getJobState(e.key);
          if (state === 'completed') return (await this.#queue.getJob(e.key))!.returnvalue as StepJobResult;
          if (state === 'failed') throw new QueueGaveUp(`the queue gave up on job ${e.key.slice(0, 12)}: ${(await this.#queue.getJob(e.key))?.failedReason ?? 'no reason given'}`);
          if (state === 'unknown') {
            e.log(`job ${e.key.slice(0, 12)} is no longer in Redis (restarted?); adding it again`, 'stderr');
            job = await this.#submit(e, data);
          }
          const workers = await this.#queue.getWorkersCount();
          if ((workers === 0) !== alone) {
            alone = workers === 0;
            e.log(alone ? `no worker reachable on ${where}: waiting (start one with: axx worker --redis ${where} --blobs ${this.options.shared.root})` : `a worker is connected to ${where}`, 'stderr');
          }
        } catch (error) {
          if (error instanceof QueueGaveUp) throw error;
          // Redis unreachable for now: the client reconnects; keep waiting.
        }
      }
    };
    const viaEvents = job.waitUntilFinished(this.#events) as Promise<StepJobResult>;
    viaEvents.catch(() => undefined);
    try {
      return await Promise.race([viaEvents, poll()]);
    } finally {
      finished.abort();
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

function relayJobUpdate(e: StepExecution, update: JobUpdate): void {
  if (update.type === 'started') e.log(`running on worker ${update.worker}`, 'stderr');
  else if (update.type === 'refused') e.log(`worker ${update.worker} refused the job: ${update.reason}`, 'stderr');
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
