// A worker thread of ImageWorkerPool: loads image files with the transform it was started with
// and posts each sample back (its buffer transferred, not copied).
import {parentPort, workerData} from 'node:worker_threads';
import {DataError} from './data-error.js';
import {ImageTransformer, type ImageTransform} from './image-folder.js';
import type {WorkerReply} from './image-worker-pool.js';

const transformer = new ImageTransformer((workerData as {transform: ImageTransform}).transform);
const size = transformer.sampleShape.reduce((a, b) => a * b, 1);

parentPort!.on('message', ({id, file}: {id: number; file: string}) => {
  let reply: WorkerReply;
  const sample = new Float32Array(size);
  try {
    transformer.load(file, sample);
    reply = {id, sample};
  } catch (error) {
    const known = error instanceof DataError;
    reply = {id, error: {message: (error as Error).message, file: known ? error.file : file, hint: known ? error.hint : undefined}};
  }
  parentPort!.postMessage(reply, 'sample' in reply ? [reply.sample.buffer as ArrayBuffer] : []);
});
