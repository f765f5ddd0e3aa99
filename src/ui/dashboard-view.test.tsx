import React from 'react';
import {describe, expect, it} from 'vitest';
import {render} from 'ink-testing-library';
import type {AxxEvent, StepRef} from '../engine/events.js';
import {DashboardView} from './dashboard-view.js';
import {emptyRunView, reduceRunView, type RunView} from './run-view.js';
import {visibleRows} from './rows.js';

const load: StepRef = {id: 'load', instance: 'load', kind: 'load/model'};
const search: StepRef = {id: 'search', instance: 'search', kind: 'search'};
const sens = (layer: string): StepRef => ({id: 'sens', instance: `sens[layer=${layer}]`, kind: 'sensitivity'});

function replay(events: AxxEvent[]): RunView {
  return events.reduce(reduceRunView, emptyRunView());
}

interface FrameOptions {
  expanded?: string[];
  selected?: number;
  showLog?: boolean;
  now?: number;
  columns?: number;
  height?: number;
  interruptNotes?: Record<string, string>;
}

function frame(view: RunView, opts: FrameOptions = {}): string {
  const rows = visibleRows(view, new Set(opts.expanded ?? []));
  const {lastFrame} = render(
    <DashboardView view={view} rows={rows} selected={opts.selected ?? 0} now={opts.now ?? 65_000} columns={opts.columns ?? 120} height={opts.height ?? 40}
      showLog={opts.showLog ?? false} interruptNotes={opts.interruptNotes} />,
  );
  return lastFrame() ?? '';
}

const start: AxxEvent = {type: 'run-start', runId: 'r1', pipeline: 'quickstart', steps: [load, sens('fc1'), sens('fc2'), search], at: 0};

describe('DashboardView', () => {
  it('shows the header and a waiting row per step before anything runs', () => {
    const out = frame(replay([start]), {now: 0});
    expect(out).toContain('quickstart');
    expect(out).toContain('run r1');
    expect(out).toContain('steps 0/4 done');
    expect(out).toMatch(/· load\s+load\/model/);
    expect(out).toContain('sens ×2');
  });

  it('shows the worker a step runs on and the queued/running/done counts of its tasks', () => {
    const view = replay([
      start,
      {type: 'step-start', step: load, attempt: 1, at: 1_000},
      {type: 'step-worker', step: load, worker: 'lab2:4711', at: 1_100},
      {type: 'step-start', step: search, attempt: 1, at: 1_000},
      {type: 'step-progress', step: search, done: 10, total: 100, unit: 'eval', at: 2_000},
      {type: 'step-tasks', step: search, queued: 4, running: 2, done: 10, at: 2_000},
    ]);
    const out = frame(view, {now: 3_000});
    expect(out).toMatch(/load\s+load\/model\s+on lab2:4711/);
    expect(out).toContain('10/100 eval 10%  tasks 4 queued · 2 running · 10 done');
  });

  it('shows progress, rate and ETA of a running step', () => {
    const view = replay([
      start,
      {type: 'step-start', step: search, attempt: 1, at: 1_000},
      {type: 'step-progress', step: search, done: 0, total: 100, unit: 'eval', at: 1_000},
      {type: 'step-progress', step: search, done: 40, total: 100, unit: 'eval', at: 21_000},
    ]);
    const out = frame(view, {now: 21_000});
    expect(out).toContain('▶ search');
    expect(out).toContain('40/100 eval 40%');
    expect(out).toContain('2.0 eval/s');
    expect(out).toContain('ETA 30s');
  });

  it('marks cached and finished steps and counts them in the header', () => {
    const view = replay([
      start,
      {type: 'step-end', step: load, outcome: 'cached', at: 10},
      {type: 'step-start', step: sens('fc1'), attempt: 1, at: 20},
      {type: 'step-end', step: sens('fc1'), outcome: 'ran', at: 3_020},
    ]);
    const out = frame(view, {expanded: ['sens']});
    expect(out).toMatch(/≡ load\s+load\/model\s+cached/);
    expect(out).toContain('steps 2/4 done · 1 ran · 1 cached');
    expect(out).toContain('1/2 50%');
    expect(out).toMatch(/✔\s+\[layer=fc1\].*3s/);
    expect(out).toContain('[layer=fc2]');
  });

  it('collapses matrix instances until the group is expanded', () => {
    const view = replay([start]);
    expect(frame(view)).not.toContain('[layer=fc1]');
    expect(frame(view, {expanded: ['sens']})).toContain('[layer=fc1]');
  });

  it('shows metrics with a sparkline for the selected step', () => {
    const events: AxxEvent[] = [start, {type: 'step-start', step: search, attempt: 1, at: 0}];
    [0.1, 0.15, 0.2, 0.22].forEach((v, i) => events.push({type: 'step-metric', step: search, name: 'best_saving', value: v, x: i, at: i}));
    const view = replay(events);
    const out = frame(view, {selected: 2});
    expect(out).toContain('Metrics · search');
    expect(out).toContain('best_saving');
    expect(out).toContain('0.2200');
    expect(out).toMatch(/[▁▂▃▄▅▆▇█]{4}/);
  });

  it('shows the log tail, and only the selected step with the log view', () => {
    const view = replay([
      start,
      {type: 'step-log', step: load, stream: 'stdout', text: 'loaded vit-mnist', at: 1},
      {type: 'step-log', step: search, stream: 'stderr', text: 'evaluating config 7', at: 2},
    ]);
    const all = frame(view);
    expect(all).toContain('[load] loaded vit-mnist');
    expect(all).toContain('[search] evaluating config 7');
    const onlyLoad = frame(view, {selected: 0, showLog: true});
    expect(onlyLoad).toContain('Log · load');
    expect(onlyLoad).not.toContain('evaluating config 7');
  });

  it('shows the last error with its hint and location, and the resume command', () => {
    const view = replay([
      start,
      {type: 'step-start', step: load, attempt: 1, at: 0},
      {type: 'step-end', step: load, outcome: 'failed', at: 5},
      {
        type: 'failure',
        failure: {reason: 'step-failed', step: load, message: 'model.onnx not found', hint: 'check with.path',
          diagnostic: {message: 'x', location: {file: 'p.yaml', line: 4, column: 7}}},
        at: 5,
      },
      {type: 'failure', failure: {reason: 'interrupted', resumeCommand: 'axx run p.yaml'}, at: 6},
      {type: 'run-end', runId: 'r1', reason: 'failed', at: 6},
    ]);
    const out = frame(view);
    expect(out).toContain('✖ load');
    expect(out).toContain('load: p.yaml:4:7: model.onnx not found');
    expect(out).toContain('hint: check with.path');
    expect(out).toContain('resume with: axx run p.yaml');
    expect(out).toContain('FAILED');
  });

  it('shows retries', () => {
    const view = replay([
      start,
      {type: 'step-start', step: load, attempt: 1, at: 0},
      {type: 'step-retry', step: load, attempt: 2, delayMs: 1000, message: 'busy', at: 1},
      {type: 'step-start', step: load, attempt: 2, at: 1001},
    ]);
    expect(frame(view)).toContain('retry 1');
  });

  it('scrolls long lists to keep the selection visible', () => {
    const refs = Array.from({length: 80}, (_, i): StepRef => ({id: `s${i}`, instance: `s${i}`, kind: 'exec'}));
    const view = replay([{type: 'run-start', runId: 'r', pipeline: 'big', steps: refs, at: 0}]);
    const out = frame(view, {selected: 70});
    expect(out).toContain('s70');
    expect(out).not.toMatch(/ s3 /);
    expect(out).toMatch(/↑ \d+ more/);
  });

  it('fits 80×24 and narrower with the header first, whatever is selected', () => {
    const refs = Array.from({length: 40}, (_, i): StepRef => ({id: `step-with-a-long-name-${i}`, instance: `step-with-a-long-name-${i}`, kind: 'exec'}));
    const events: AxxEvent[] = [{type: 'run-start', runId: 'r-long-run-id', pipeline: 'a-pipeline-with-a-long-name', steps: refs, at: 0}];
    for (const ref of refs.slice(0, 3)) events.push({type: 'step-start', step: ref, attempt: 1, at: 0});
    events.push({type: 'step-progress', step: refs[2]!, done: 0, total: 1000, unit: 'batch', at: 0});
    events.push({type: 'step-progress', step: refs[2]!, done: 400, total: 1000, unit: 'batch', at: 20_000});
    for (let i = 0; i < 30; i++) {
      events.push({type: 'step-metric', step: refs[2]!, name: 'loss', value: 1 / (i + 1), at: i});
      events.push({type: 'step-metric', step: refs[1]!, name: 'accuracy', value: i / 30, at: i});
      events.push({type: 'step-log', step: refs[i % 3]!, stream: 'stdout', text: `line ${i}\twith a tab and \u001B[31mcolour\u001B[0m ${'x'.repeat(120)}`, at: i});
    }
    events.push({type: 'failure', failure: {reason: 'step-failed', step: refs[0]!, message: 'a long message '.repeat(20), hint: 'fix it'}, at: 30});
    const view = replay(events);
    for (const [columns, height] of [[80, 24], [60, 16], [40, 12]] as const) {
      for (const selected of [0, 2, 39]) {
        for (const showLog of [false, true]) {
          const lines = frame(view, {columns, height, selected, showLog, now: 20_000}).split('\n');
          expect(lines.length, `${columns}×${height}`).toBeLessThan(height);
          for (const line of lines) expect([...line].length, line).toBeLessThanOrEqual(columns);
          expect(lines[0]).toContain('axx ▸ a-pipeline');
          expect(lines[1]).toContain('steps 0/40 done');
        }
      }
    }
    // The running step keeps its ETA at 80 columns; its metrics and another running step's show.
    const out = frame(view, {columns: 80, height: 24, selected: 2, now: 20_000});
    expect(out).toMatch(/400\/1000 batch 40%\s+ETA 30s/);
    expect(out).toContain('Metrics · step-with-a-long-name-2');
    expect(out).toMatch(/step-with-a-long-name-1: accuracy 0\.9667/);
  });

  it('says what Ctrl-C keeps of the running steps, from their kinds', () => {
    const view = replay([start, {type: 'step-start', step: search, attempt: 1, at: 0}, {type: 'step-start', step: load, attempt: 1, at: 0}]);
    const out = frame(view, {interruptNotes: {search: 'resumes from its last checkpoint'}});
    expect(out).toContain('ctrl-c stop: finished steps stay cached; search resumes from its last checkpoint; load restarts from scratch');
  });
});
