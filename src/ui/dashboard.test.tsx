import React from 'react';
import {describe, expect, it, vi} from 'vitest';
import {render} from 'ink-testing-library';
import type {StepRef} from '../engine/events.js';
import {Dashboard} from './dashboard.js';
import {RunViewStore} from './view-store.js';

const sens = (layer: string): StepRef => ({id: 'sens', instance: `sens[layer=${layer}]`, kind: 'sensitivity'});
const load: StepRef = {id: 'load', instance: 'load', kind: 'load/model'};

/** Polls until `frame()` contains `text` (redraws are timer-driven, and slow on a loaded machine). */
async function frameWith(frame: () => string | undefined, text: string, timeoutMs = 3000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const current = frame() ?? '';
    if (current.includes(text) || Date.now() > deadline) return current;
    await new Promise((r) => setTimeout(r, 20));
  }
}

function setup() {
  const store = new RunViewStore();
  store.apply({type: 'run-start', runId: 'r9', pipeline: 'demo', steps: [load, sens('fc1'), sens('fc2')], at: 0});
  const onDetach = vi.fn();
  const onInterrupt = vi.fn();
  const app = render(<Dashboard store={store} onDetach={onDetach} onInterrupt={onInterrupt} frameMs={20} clock={() => 1000} />);
  return {store, onDetach, onInterrupt, ...app};
}

describe('Dashboard', () => {
  it('redraws when events arrive', async () => {
    const {store, lastFrame, unmount} = setup();
    expect(lastFrame()).toContain('steps 0/3 done');
    store.apply({type: 'step-end', step: load, outcome: 'cached', at: 10});
    expect(await frameWith(lastFrame, 'steps 1/3 done')).toContain('steps 1/3 done');
    unmount();
  });

  it('navigates rows, expands a group and opens a step log, acting on each key at once', async () => {
    const {store, stdin, lastFrame, unmount} = setup();
    store.apply({type: 'step-log', step: sens('fc2'), stream: 'stdout', text: 'fc2 cell done', at: 5});
    store.apply({type: 'step-log', step: load, stream: 'stdout', text: 'load says hi', at: 6});
    expect(await frameWith(lastFrame, 'load says hi')).not.toContain('[layer=fc1]');
    // No redraw between the keys: each must act on the row the previous one reached.
    stdin.write('\u001B[B'); // down: to the sens group
    stdin.write('\r'); // expand it
    stdin.write('\u001B[B');
    stdin.write('\u001B[B'); // to sens[layer=fc2]
    stdin.write('l');
    const frame = await frameWith(lastFrame, 'Log · sens[layer=fc2]');
    expect(frame).toContain('[layer=fc1]');
    expect(frame).toContain('Log · sens[layer=fc2]');
    expect(frame).toContain('fc2 cell done');
    expect(frame).not.toContain('load says hi');
    unmount();
  });

  it('detaches on q without interrupting the run', async () => {
    const {stdin, onDetach, onInterrupt, lastFrame} = setup();
    stdin.write('q');
    expect(await frameWith(lastFrame, 'detached')).toContain('detached — run r9 continues');
    expect(onDetach).toHaveBeenCalledTimes(1);
    expect(onInterrupt).not.toHaveBeenCalled();
  });
});
