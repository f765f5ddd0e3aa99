import {describe, expect, it} from 'vitest';
import type {AxxEvent, StepRef} from '../engine/events.js';
import {initialDashboardState, reduceDashboard, selectedIndex, type DashboardKey, type DashboardState} from './dashboard-state.js';
import {emptyRunView, reduceRunView, type RunView} from './run-view.js';
import {rowKey, visibleRows} from './rows.js';

const load: StepRef = {id: 'load', instance: 'load', kind: 'load/model'};
const sens = (layer: string): StepRef => ({id: 'sens', instance: `sens[layer=${layer}]`, kind: 'sensitivity'});
const search: StepRef = {id: 'search', instance: 'search', kind: 'search'};
const start: AxxEvent = {type: 'run-start', runId: 'r1', pipeline: 'demo', steps: [load, sens('fc1'), sens('fc2'), search], at: 0};

function replay(events: AxxEvent[]): RunView {
  return events.reduce(reduceRunView, emptyRunView());
}

function press(view: RunView, keys: DashboardKey[], from: DashboardState = initialDashboardState()): DashboardState {
  return keys.reduce((state, key) => reduceDashboard(state, key, view), from);
}

function selectedKey(view: RunView, state: DashboardState): string {
  const rows = visibleRows(view, state.expanded);
  return rowKey(rows[selectedIndex(view, rows, state)]!);
}

describe('dashboard keys', () => {
  it('acts on the row the previous key reached, with no redraw in between (↓ then enter expands the group)', () => {
    const view = replay([start]);
    const state = press(view, ['down', 'toggle']);
    expect(state.expanded).toEqual(new Set(['sens']));
    expect(selectedKey(view, state)).toBe('group:sens');
    // Two more ↓ land on the second instance, then ← closes its group and selects the group row.
    const deeper = press(view, ['down', 'down'], state);
    expect(selectedKey(view, deeper)).toBe('step:sens[layer=fc2]');
    const closed = press(view, ['collapse'], deeper);
    expect(closed.expanded.size).toBe(0);
    expect(selectedKey(view, closed)).toBe('group:sens');
  });

  it('stops at the ends of the list and pages by ten', () => {
    const view = replay([start]);
    expect(selectedKey(view, press(view, ['up', 'up']))).toBe('step:load');
    expect(selectedKey(view, press(view, ['page-down']))).toBe('step:search');
    expect(selectedKey(view, press(view, ['page-down', 'page-up']))).toBe('step:load');
  });

  it('follows the newest running step until the user moves, and again after f', () => {
    const running = replay([start, {type: 'step-start', step: load, attempt: 1, at: 1}]);
    expect(selectedKey(running, initialDashboardState())).toBe('step:load');
    const later = reduceRunView(reduceRunView(running, {type: 'step-end', step: load, outcome: 'ran', at: 2}), {type: 'step-start', step: search, attempt: 1, at: 3});
    expect(selectedKey(later, initialDashboardState())).toBe('step:search');
    // A running matrix instance is followed through its collapsed group's row.
    const inGroup = reduceRunView(later, {type: 'step-start', step: sens('fc2'), attempt: 1, at: 4});
    expect(selectedKey(inGroup, initialDashboardState())).toBe('group:sens');
    expect(selectedKey(inGroup, press(inGroup, ['toggle']))).toBe('group:sens');
    expect(selectedKey(inGroup, {...initialDashboardState(), expanded: new Set(['sens'])})).toBe('step:sens[layer=fc2]');

    const moved = press(later, ['up', 'up']);
    expect(selectedKey(later, moved)).toBe('step:load');
    // Still where the user put it when another step starts.
    const next = reduceRunView(later, {type: 'step-start', step: sens('fc1'), attempt: 1, at: 5});
    expect(selectedKey(next, moved)).toBe('step:load');
    expect(selectedKey(next, press(next, ['follow'], moved))).toBe('group:sens');
  });

  it('keeps the last finished step selected once nothing runs', () => {
    const view = replay([start, {type: 'step-start', step: search, attempt: 1, at: 1}, {type: 'step-end', step: search, outcome: 'ran', at: 2}]);
    expect(selectedKey(view, initialDashboardState())).toBe('step:search');
  });

  it('toggles the log view and records a detach', () => {
    const view = replay([start]);
    expect(press(view, ['log']).showLog).toBe(true);
    expect(press(view, ['log', 'log']).showLog).toBe(false);
    expect(press(view, ['detach']).detached).toBe(true);
  });
});
