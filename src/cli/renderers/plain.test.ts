import {describe, expect, it} from 'vitest';
import type {StepRef} from '../../engine/events.js';
import {captureIo} from '../../../test/e2e/engine-helpers.js';
import {plainRenderer} from './plain.js';

const s: StepRef = {id: 's', instance: 's[k=1]', kind: 'train'};

describe('plain renderer', () => {
  it('prints starts, throttled progress, results, located failures and a summary', () => {
    const io = captureIo('/work');
    const {sink} = plainRenderer(io);
    sink({type: 'run-start', runId: 'r1', pipeline: 'demo', steps: [s], at: 0});
    sink({type: 'step-start', step: s, attempt: 1, at: 0});
    for (let done = 1; done <= 100; done++) sink({type: 'step-progress', step: s, done, total: 100, unit: 'batch', at: done});
    sink({type: 'failure', failure: {reason: 'step-failed', step: s, message: 'bad data', hint: 'check it', diagnostic: {message: 'bad data', location: {file: '/work/p.yaml', line: 3, column: 5}}}, at: 101});
    sink({type: 'step-end', step: s, outcome: 'failed', at: 1500});
    sink({type: 'run-end', runId: 'r1', reason: 'failed', at: 1500});
    const lines = io.stdoutText().split('\n');
    expect(lines.filter((l) => l.startsWith('…'))).toHaveLength(10);
    expect(lines).toContain('… s[k=1] 50/100 batch 50%, 1000 batch/s');
    expect(lines).toContain('✗ s[k=1] failed (1.50s)');
    expect(lines).toContain('run r1 failed in 1.50s: 0 ran, 0 cached, 1 failed');
    expect(io.stderrText()).toBe('p.yaml:3:5: step s[k=1] failed: bad data\n  hint: check it\n');
  });

  it('prints a progress line at least every 10 s per step, with the rate', () => {
    const io = captureIo('/work');
    const {sink} = plainRenderer(io);
    sink({type: 'step-start', step: s, attempt: 1, at: 0});
    // 1 image every 2 s, 1000 in total: no 10 % step for a long while, so the 10 s lines carry it.
    for (let done = 1; done <= 30; done++) sink({type: 'step-progress', step: s, done, total: 1000, unit: 'img', at: done * 2000});
    sink({type: 'step-progress', step: {...s, instance: 'other'}, done: 7, at: 60_000});
    const lines = io.stdoutText().split('\n').filter((l) => l.startsWith('…'));
    expect(lines).toEqual([
      '… s[k=1] 5/1000 img 0%, 30.0 img/min',
      '… s[k=1] 10/1000 img 1%, 30.0 img/min',
      '… s[k=1] 15/1000 img 1%, 30.0 img/min',
      '… s[k=1] 20/1000 img 2%, 30.0 img/min',
      '… s[k=1] 25/1000 img 2%, 30.0 img/min',
      '… s[k=1] 30/1000 img 3%, 30.0 img/min',
    ]);
  });

  it('rounds metrics to 4 significant digits and prints each at most every 10 s, the newest at the step end', () => {
    const io = captureIo('/work');
    const {sink} = plainRenderer(io);
    sink({type: 'step-start', step: s, attempt: 1, at: 0});
    // A loss every 100 ms for 25 s (lines at 0, 10 and 20 s, the newest at the end), then an accuracy once.
    for (let i = 0; i <= 250; i++) sink({type: 'step-metric', step: s, name: 'loss', value: 0.0014636151706023763 * (1 + i / 1000), x: i, at: i * 100});
    sink({type: 'step-metric', step: s, name: 'accuracy', value: 0.9, at: 1000});
    sink({type: 'step-end', step: s, outcome: 'ran', at: 26_000});
    const metricLines = io.stdoutText().split('\n').filter((l) => l.includes(' = '));
    expect(metricLines).toEqual([
      '  s[k=1] | loss = 0.001464 @ 0',
      '  s[k=1] | loss = 0.00161 @ 100',
      '  s[k=1] | loss = 0.001756 @ 200',
      '  s[k=1] | accuracy = 0.9',
      '  s[k=1] | loss = 0.00183 @ 250',
    ]);
  });
});
