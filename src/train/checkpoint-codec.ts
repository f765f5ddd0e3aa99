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

/** The parts of a saved checkpoint: its JSON state and its two binary files. */
export type CheckpointPart = 'state' | 'params.f32' | 'optimizer.f32';

/** A saved checkpoint this code cannot resume from (another format, a damaged state, another model's weights). */
export class CheckpointFormatError extends Error {
  constructor(
    message: string,
    /** Which part of the checkpoint is at fault. */
    readonly part: CheckpointPart,
  ) {
    super(message);
    this.name = 'CheckpointFormatError';
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isCount = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 0;
const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** The state as saved by encodeCheckpoint, checked field by field: a checkpoint is read back from disk. */
function checkedState(state: Json): CheckpointJson {
  const fail = (what: string): never => {
    throw new CheckpointFormatError(what, 'state');
  };
  if (!isRecord(state)) return fail('not an object');
  if (state.version !== 1) fail(`unknown format version ${JSON.stringify(state.version)}`);
  for (const field of ['epoch', 'batch', 'epochCorrect', 'epochSeen'] as const) if (!isCount(state[field])) fail(`"${field}" must be a non-negative integer`);
  for (const field of ['epochLoss', 'epochSeconds'] as const) if (!isNumber(state[field])) fail(`"${field}" must be a finite number`);
  const optimizer = state.optimizer;
  if (!isRecord(optimizer) || (optimizer.kind !== 'adamw' && optimizer.kind !== 'sgd') || !isCount(optimizer.step)) fail('"optimizer" must be {kind: adamw | sgd, step}');
  const history = state.history;
  if (!Array.isArray(history)) return fail('"history" must be a list');
  history.forEach((record, i) => {
    if (!isRecord(record) || !(['epoch', 'loss', 'trainAccuracy', 'lr', 'seconds'] as const).every((field) => isNumber(record[field]))) fail(`history[${i}] is not an epoch record`);
  });
  return state as unknown as CheckpointJson;
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

function split(bytes: Uint8Array | undefined, sizes: readonly number[], part: CheckpointPart): Float32Array[] {
  const expected = sizes.reduce((n, s) => n + s, 0) * 4;
  if (bytes === undefined || bytes.byteLength !== expected) {
    throw new CheckpointFormatError(`${bytes?.byteLength ?? 0} bytes where this model's parameters need ${expected}: it belongs to a different model or was cut short`, part);
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
  const s = checkedState(state);
  const sizes = session.params.map((p) => p.length);
  const momentSizes = s.optimizer.kind === 'adamw' ? sizes.flatMap((n) => [n, n]) : sizes;
  return {
    epoch: s.epoch, batch: s.batch, history: s.history, epochLoss: s.epochLoss, epochCorrect: s.epochCorrect, epochSeen: s.epochSeen, epochSeconds: s.epochSeconds,
    windowLoss: s.windowLoss ?? 0,
    params: split(files['params.f32'], sizes, 'params.f32'),
    optimizer: {kind: s.optimizer.kind, step: s.optimizer.step, buffers: split(files['optimizer.f32'], momentSizes, 'optimizer.f32')},
  };
}
