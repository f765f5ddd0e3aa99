import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import type {AxxEvent, StepRef} from '../events.js';
import {PROGRESS_EVERY_MS} from './run-log.js';
import {Store} from './store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, {recursive: true, force: true});
});

function tempStore(): Store {
  const dir = mkdtempSync(join(tmpdir(), 'axx-runlog-'));
  dirs.push(dir);
  return Store.open(dir);
}

const step: StepRef = {id: 's', instance: 's', kind: 'exec'};

describe('RunLog event log', () => {
  it('keeps every kind of event in order, progress throttled per step with the last one kept', () => {
    using store = tempStore();
    store.runs.start({id: 'r1', pipeline: 'p.yaml', name: 'p', command: 'axx run p.yaml', params: {}, at: 0});
    const events: AxxEvent[] = [
      {type: 'run-start', runId: 'r1', pipeline: 'p', steps: [step], at: 0},
      {type: 'step-start', step, attempt: 1, at: 1},
      // 100 progress reports 10 ms apart: ~1 per PROGRESS_EVERY_MS survives, plus the last (done 99 of 200).
      ...Array.from({length: 100}, (_, i): AxxEvent => ({type: 'step-progress', step, done: i, total: 200, unit: 'img', at: 10 + i * 10})),
      {type: 'step-log', step, stream: 'stdout', text: 'hello', at: 1005},
      {type: 'step-metric', step, name: 'loss', value: 0.5, at: 1006},
      {type: 'step-end', step, outcome: 'ran', at: 1010},
      {type: 'run-end', runId: 'r1', reason: 'passed', at: 1011},
    ];
    for (const event of events) store.runs.record('r1', event);

    const recorded = store.runs.eventsAfter('r1', 0);
    expect(recorded.map((r) => r.seq)).toEqual(recorded.map((_, i) => i + 1));
    const progress = recorded.flatMap((r) => (r.event.type === 'step-progress' ? [r.event.done] : []));
    expect(progress.length).toBeLessThanOrEqual(1000 / PROGRESS_EVERY_MS + 2);
    expect(progress[0]).toBe(0);
    expect(progress.at(-1)).toBe(99);
    // The held-back last progress is written before the log line that followed it.
    expect(recorded.map((r) => r.event.type).slice(-5)).toEqual(['step-progress', 'step-log', 'step-metric', 'step-end', 'run-end']);
    // Logs and metrics still land in their own tables for `axx show`.
    expect(store.runs.logs('r1', 's').map((l) => l.text)).toEqual(['hello']);
    expect(store.runs.metrics('r1', 's').map((m) => m.value)).toEqual([0.5]);

    // A cursor resumes after the last seen sequence number.
    const last = recorded.at(-3)!.seq;
    expect(store.runs.eventsAfter('r1', last).map((r) => r.event.type)).toEqual(['step-end', 'run-end']);
    expect(store.runs.eventsAfter('r1', recorded.at(-1)!.seq)).toEqual([]);
  });

  it('writes a held-back progress at run end even without a later event of that step', () => {
    using store = tempStore();
    store.runs.start({id: 'r2', pipeline: 'p.yaml', name: 'p', command: 'axx run p.yaml', params: {}, at: 0});
    store.runs.record('r2', {type: 'step-progress', step, done: 1, at: 1});
    store.runs.record('r2', {type: 'step-progress', step, done: 2, at: 2});
    store.runs.record('r2', {type: 'run-end', runId: 'r2', reason: 'interrupted', at: 3});
    expect(store.runs.events('r2').map((e) => (e.type === 'step-progress' ? e.done : e.type))).toEqual([1, 2, 'run-end']);
  });
});
