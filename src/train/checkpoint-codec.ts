// TrainCheckpoint <-> (JSON state, binary files) for the engine's checkpoint slot: weights and
// optimiser moments go to little-endian float32 files, everything else to JSON.
import type {Json} from '../util/json.js';
import type {EpochRecord, TrainCheckpoint} from './loop.js';
import type {OptimizerState} from './optim.js';

interface CheckpointJson {
  version: 1;
  epoch: number;
  batch: number;
  optimizer: {kind: OptimizerState['kind']; step: number};
  history: EpochRecord[];
  epochLoss: number;
  epochCorrect: number;
  epochSeen: number;
  epochSeconds: number;
  /** Absent in checkpoints written before it was kept (their resumed loss windows were off). */
  windowLoss?: number;
}

function concat(arrays: readonly Float32Array[]): Uint8Array {
  const total = arrays.reduce((n, a) => n + a.length, 0);
  const out = new Float32Array(total);
  let offset = 0;
  for (const a of arrays) {
    out.set(a, offset);
    offset += a.length;
  }
  return new Uint8Array(out.buffer);
}

function split(bytes: Uint8Array | undefined, sizes: readonly number[], what: string): Float32Array[] {
  const expected = sizes.reduce((n, s) => n + s, 0) * 4;
  if (bytes === undefined || bytes.byteLength !== expected) {
    throw new Error(`checkpoint ${what} has ${bytes?.byteLength ?? 0} bytes, expected ${expected}: it belongs to a different model; delete the checkpoint to start over`);
  }
  const all = new Float32Array(bytes.slice().buffer);
  let offset = 0;
  return sizes.map((s) => all.slice(offset, (offset += s)));
}

export function encodeCheckpoint(c: TrainCheckpoint): {state: Json; files: Record<string, Uint8Array>} {
  const state: CheckpointJson = {
    version: 1, epoch: c.epoch, batch: c.batch, optimizer: {kind: c.optimizer.kind, step: c.optimizer.step}, history: c.history,
    epochLoss: c.epochLoss, epochCorrect: c.epochCorrect, epochSeen: c.epochSeen, epochSeconds: c.epochSeconds, windowLoss: c.windowLoss,
  };
  return {state: state as unknown as Json, files: {'params.f32': concat(c.params), 'optimizer.f32': concat(c.optimizer.buffers)}};
}

/** Restores a checkpoint for parameters of the given sizes (in training-session order). */
export function decodeCheckpoint(state: Json, files: Record<string, Uint8Array>, session: {params: readonly Float32Array[]}): TrainCheckpoint {
  const s = state as unknown as CheckpointJson;
  if (s?.version !== 1) throw new Error('unknown checkpoint format; delete the checkpoint to start over');
  const sizes = session.params.map((p) => p.length);
  const momentSizes = s.optimizer.kind === 'adamw' ? sizes.flatMap((n) => [n, n]) : sizes;
  return {
    epoch: s.epoch, batch: s.batch, history: s.history, epochLoss: s.epochLoss, epochCorrect: s.epochCorrect, epochSeen: s.epochSeen, epochSeconds: s.epochSeconds,
    windowLoss: s.windowLoss ?? 0,
    params: split(files['params.f32'], sizes, 'weights'),
    optimizer: {kind: s.optimizer.kind, step: s.optimizer.step, buffers: split(files['optimizer.f32'], momentSizes, 'optimizer state')},
  };
}
