// Worker threads that decode and transform images in parallel (JPEG decoding in pure JS is the
// slow part of loading an image folder). Each worker runs image-worker.ts with one transform;
// jobs go to the first idle worker.
import {Worker} from 'node:worker_threads';
import {siblingEntry} from '../util/module-entry.js';
import {DataError} from './data-error.js';
import type {ImageTransform} from './image-folder.js';

export type WorkerReply = {id: number; sample: Float32Array} | {id: number; error: {message: string; file?: string; hint?: string}};

interface Job {
  id: number;
  file: string;
  out: Float32Array;
  resolve(): void;
  reject(error: Error): void;
}

const workerEntry = siblingEntry(import.meta.url, 'image-worker');
/** Run from source, a worker registers tsx itself: worker threads ignore the --import of their execArgv. */
const workerScript = workerEntry.typescript
  ? {code: `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(workerEntry.url.href)}); });`, eval: true}
  : {code: workerEntry.url, eval: false};

export class ImageWorkerPool {
  readonly #idle: Worker[] = [];
  readonly #all: Worker[] = [];
  readonly #queue: Job[] = [];
  readonly #running = new Map<Worker, Job>();
  #nextId = 0;
  #failure: Error | undefined;

  constructor(size: number, transform: ImageTransform) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(workerScript.code, {eval: workerScript.eval, workerData: {transform}});
      worker.on('message', (reply: WorkerReply) => this.#finish(worker, reply));
      worker.on('error', (error) => this.#fail(error));
      this.#all.push(worker);
      this.#idle.push(worker);
    }
  }

  /** Loads `file` through a worker into `out`. */
  load(file: string, out: Float32Array): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#queue.push({id: this.#nextId++, file, out, resolve, reject});
      this.#dispatch();
    });
  }

  close(): void {
    for (const worker of this.#all) void worker.terminate();
  }

  #dispatch(): void {
    while (this.#idle.length > 0 && this.#queue.length > 0) {
      const worker = this.#idle.pop()!;
      const job = this.#queue.shift()!;
      this.#running.set(worker, job);
      worker.postMessage({id: job.id, file: job.file});
    }
  }

  #finish(worker: Worker, reply: WorkerReply): void {
    const job = this.#running.get(worker);
    this.#running.delete(worker);
    this.#idle.push(worker);
    if (job !== undefined && job.id === reply.id) {
      if ('sample' in reply) {
        job.out.set(reply.sample);
        job.resolve();
      } else {
        job.reject(new DataError(reply.error.message.replace(`${reply.error.file}: `, ''), reply.error.file, reply.error.hint));
      }
    }
    this.#dispatch();
  }

  /** A worker that dies (it could not start, say) fails every job, now and later. */
  #fail(error: Error): void {
    this.#failure = new Error(`image worker failed: ${error.message}`);
    for (const job of [...this.#running.values(), ...this.#queue.splice(0)]) job.reject(this.#failure);
    this.#running.clear();
  }
}
