import {describe, expect, it} from 'vitest';
import type {StepKind} from './step-kind.js';
import {localTasks} from './tasks.js';

const kind: StepKind = {
  name: 'test/tasks',
  version: 1,
  description: 'doubles through a task',
  schema: {type: 'object'},
  outputs: {},
  tasks: {double: async (payload) => (payload as number) * 2, scratch: async (_payload, _signal, scratchDir) => scratchDir},
  run: async () => ({}),
};

describe('localTasks', () => {
  it('runs the kind’s task in process, one in flight per granted cpu', async () => {
    const tasks = localTasks(kind, {cpu: 3.5}, '/scratch');
    expect(tasks.concurrency).toBe(3);
    expect(await tasks.run('double', 21, 'test/tasks:21', new AbortController().signal)).toBe(42);
    expect(localTasks(kind, {}, '/scratch').concurrency).toBe(1);
  });

  it('gives the tasks the step’s scratch directory', async () => {
    expect(await localTasks(kind, {}, '/scratch/step').run('scratch', null, 'k', new AbortController().signal)).toBe('/scratch/step');
  });

  it('names the tasks the kind declares when asked for another', async () => {
    await expect(localTasks(kind, {}, '/scratch').run('triple', 1, 'k', new AbortController().signal)).rejects.toThrow(/no task "triple" \(it declares: double, scratch\)/);
  });
});
