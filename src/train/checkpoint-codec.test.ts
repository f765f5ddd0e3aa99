// A checkpoint is read back from disk (a crashed run's, or an older axx's): its state is validated,
// and anything unusable is a CheckpointFormatError rather than a resume from garbage.
import {describe, expect, it} from 'vitest';
import type {Json} from '../util/json.js';
import {CheckpointFormatError, decodeCheckpoint, encodeCheckpoint} from './checkpoint-codec.js';

const session = {params: [new Float32Array(3)]};
const saved = encodeCheckpoint({
  epoch: 1,
  batch: 2,
  params: [new Float32Array([1, 2, 3])],
  optimizer: {kind: 'sgd', step: 7, buffers: [new Float32Array(3)]},
  history: [{epoch: 0, loss: 0.5, trainAccuracy: 0.9, lr: 0.01, seconds: 1}],
  epochLoss: 0.25,
  epochCorrect: 10,
  epochSeen: 12,
  epochSeconds: 0.5,
  windowLoss: 0.125,
});
const state = saved.state as {[key: string]: Json};

describe('decodeCheckpoint', () => {
  it('restores what encodeCheckpoint saved', () => {
    const restored = decodeCheckpoint(JSON.parse(JSON.stringify(state)) as Json, saved.files, session);
    expect(restored).toMatchObject({epoch: 1, batch: 2, optimizer: {kind: 'sgd', step: 7}, epochSeen: 12});
    expect([...restored.params[0]!]).toEqual([1, 2, 3]);
  });

  it.each([
    ['not an object', null],
    ['another version', {...state, version: 2}],
    ['a negative batch', {...state, batch: -1}],
    ['a missing epoch loss', {...state, epochLoss: null}],
    ['an unknown optimizer', {...state, optimizer: {kind: 'lamb', step: 1}}],
    ['a broken history', {...state, history: [{epoch: 0}]}],
  ])('refuses a state with %s', (_, damaged) => {
    expect(() => decodeCheckpoint(damaged as Json, saved.files, session)).toThrow(CheckpointFormatError);
  });

  it('refuses weights of another model', () => {
    expect(() => decodeCheckpoint(state, saved.files, {params: [new Float32Array(4)]})).toThrow(CheckpointFormatError);
  });
});
