// One BullMQ queue as the coordinator uses it: add a job (its id names the work by content, so a second
// coordinator, or this one rerun, attaches to the job already there), relay the updates its worker
// streams, wait for its result. Used for whole step instances and for steps' tasks alike.
import {Queue, QueueEvents, type Job} from 'bullmq';
import {asConnection, redactRedisUrl, redisClient} from './redis.js';
import type {JobUpdate} from './step-job.js';

/** How often a waiting job checks that some worker is connected. */
const WORKER_CHECK_MS = 2_000;
/** Finished jobs (their results are in the store by then) are dropped from Redis after a day. */
const KEEP_FINISHED_S = 24 * 3600;

/** BullMQ failed the job itself (a job that took down two workers): no worker could finish it. */
class QueueGaveUp extends Error {}

/** What every job's result says: whether it succeeded, and on which worker. */
export interface JobResultBase {
  ok: boolean;
  worker: string;
}

/** Who waits for a job: its updates and the channel's own notes go here. */
export interface JobWatcher {
  signal: AbortSignal;
  update(update: JobUpdate): void;
  /** A note for the waiting step's log (attached, re-added, no worker reachable …). */
  note(text: string): void;
}

export class JobChannel {
  readonly #queue: Queue;
  readonly #events: QueueEvents;
  readonly #watching = new Map<string, Set<JobWatcher>>();
  /** Whether the last check found no worker: shared, so many jobs in flight say so once, not once each. */
  #alone = false;
  /** BullMQ leaves clients it was handed open; close() quits them. */
  readonly #clients;

  constructor(
    name: string,
    readonly redisUrl: string,
    /** How to start a worker, for the "no worker reachable" note. */
    readonly workerHint: string,
  ) {
    this.#clients = [redisClient(redisUrl), redisClient(redisUrl)] as const;
    this.#queue = new Queue(name, {connection: asConnection(this.#clients[0])});
    this.#events = new QueueEvents(name, {connection: asConnection(this.#clients[1])});
    // Every job in flight waits with its own listeners (BullMQ's waitUntilFinished); there is no leak to warn of.
    this.#queue.setMaxListeners(0);
    this.#events.setMaxListeners(0);
    // Connection drops are retried by the client; waiting steps say so through their logs.
    this.#queue.on('error', () => undefined);
    this.#events.on('error', () => undefined);
    this.#events.on('progress', ({jobId, data}) => {
      for (const watcher of this.#watching.get(jobId) ?? []) watcher.update(data as JobUpdate);
    });
  }

  /** Adds (or attaches to) job `jobId` and resolves with its result, whether ok or not. */
  async run<R extends JobResultBase>(jobId: string, name: string, data: object, watcher: JobWatcher): Promise<R> {
    const watchers = this.#watching.get(jobId) ?? new Set();
    this.#watching.set(jobId, watchers.add(watcher));
    try {
      await abortable(this.#events.waitUntilReady(), watcher.signal);
      const job = await abortable(this.#submit(jobId, name, data, watcher), watcher.signal);
      return await abortable(this.#untilFinished<R>(job, name, data, watcher), watcher.signal);
    } finally {
      watchers.delete(watcher);
      if (watchers.size === 0) this.#watching.delete(jobId);
    }
  }

  /** Adds the job, or attaches to the one with this id already queued, running or done well. */
  async #submit(jobId: string, name: string, data: object, watcher: JobWatcher): Promise<Job> {
    const existing = await this.#queue.getJob(jobId);
    if (existing !== undefined) {
      const state = await existing.getState();
      const result = existing.returnvalue as JobResultBase | null;
      const usable = state !== 'failed' && !(state === 'completed' && (result === null || !result.ok));
      if (usable) {
        watcher.note(`attached to job ${jobId.slice(0, 12)} already ${state} on the queue`);
        return existing;
      }
      await existing.remove();
    }
    return this.#queue.add(name, data, {jobId, attempts: 1, removeOnComplete: {age: KEEP_FINISHED_S}, removeOnFail: {age: KEEP_FINISHED_S}});
  }

  /**
   * Waits for the job through queue events, and every few seconds also asks Redis directly: that
   * catches an event missed while the connection was down, re-adds a job a restarted Redis lost, and
   * says within seconds when no worker is connected (and again when one is), once for all jobs in flight.
   */
  async #untilFinished<R>(first: Job, name: string, data: object, watcher: JobWatcher): Promise<R> {
    const jobId = first.id!;
    const where = redactRedisUrl(this.redisUrl);
    let job = first;
    const finished = new AbortController();
    const poll = async (): Promise<R> => {
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, WORKER_CHECK_MS));
        if (finished.signal.aborted || watcher.signal.aborted) return new Promise<never>(() => undefined);
        try {
          const state = await this.#queue.getJobState(jobId);
          if (state === 'completed') return (await this.#queue.getJob(jobId))!.returnvalue as R;
          if (state === 'failed') throw new QueueGaveUp(`the queue gave up on job ${jobId.slice(0, 12)}: ${(await this.#queue.getJob(jobId))?.failedReason ?? 'no reason given'}`);
          if (state === 'unknown') {
            watcher.note(`job ${jobId.slice(0, 12)} is no longer in Redis (restarted?); adding it again`);
            job = await this.#submit(jobId, name, data, watcher);
          }
          const workers = await this.#queue.getWorkersCount();
          if ((workers === 0) !== this.#alone) {
            this.#alone = workers === 0;
            watcher.note(this.#alone ? `no worker reachable on ${where}: waiting (start one with: axx worker --redis ${where} ${this.workerHint})` : `a worker is connected to ${where}`);
          }
        } catch (error) {
          if (error instanceof QueueGaveUp) throw error;
          // Redis unreachable for now: the client reconnects; keep waiting.
        }
      }
    };
    const viaEvents = job.waitUntilFinished(this.#events) as Promise<R>;
    viaEvents.catch(() => undefined);
    try {
      return await Promise.race([viaEvents, poll()]);
    } finally {
      finished.abort();
    }
  }

  async close(): Promise<void> {
    await this.#events.close();
    await this.#queue.close();
    for (const client of this.#clients) await client.quit();
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
