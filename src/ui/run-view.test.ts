import {describe, expect, it} from 'vitest';
import type {AxxEvent, StepRef} from '../engine/events.js';
import {emptyRunView, reduceRunView} from './run-view.js';

const sens: StepRef = {id: 'sens', instance: 'sens', kind: 'sensitivity'};

function replay(events: AxxEvent[]) {
  return events.reduce(reduceRunView, emptyRunView());
}

describe('reduceRunView on a queue', () => {
  it('keeps the worker a step runs on and the latest counts of its tasks', () => {
    const view = replay([
      {type: 'run-start', runId: 'r', pipeline: 'p', steps: [sens], at: 0},
      {type: 'step-start', step: sens, attempt: 1, at: 1},
      {type: 'step-worker', step: sens, worker: 'lab2:1', at: 2},
      {type: 'step-tasks', step: sens, queued: 5, running: 0, done: 0, at: 3},
      {type: 'step-tasks', step: sens, queued: 3, running: 2, done: 0, at: 4},
    ]);
    expect(view.steps['sens']).toMatchObject({worker: 'lab2:1', tasks: {queued: 3, running: 2, done: 0}});
  });

  it('forgets both when a retry starts the step again (maybe elsewhere)', () => {
    const view = replay([
      {type: 'run-start', runId: 'r', pipeline: 'p', steps: [sens], at: 0},
      {type: 'step-start', step: sens, attempt: 1, at: 1},
      {type: 'step-worker', step: sens, worker: 'lab2:1', at: 2},
      {type: 'step-tasks', step: sens, queued: 0, running: 1, done: 4, at: 3},
      {type: 'step-retry', step: sens, attempt: 2, delayMs: 10, message: 'lost', at: 4},
      {type: 'step-start', step: sens, attempt: 2, at: 5},
    ]);
    expect(view.steps['sens']?.worker).toBeUndefined();
    expect(view.steps['sens']?.tasks).toBeUndefined();
  });
});
