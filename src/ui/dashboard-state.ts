// The dashboard's keyboard state as a pure reducer. Every key is reduced against the view current at
// the moment the key arrives (not the rows of the last drawn frame), so a fast ↓ then Enter acts on the
// row ↓ reached, however late the next redraw comes.
import {isFinished, type RunView, type StepView} from './run-view.js';
import {rowKey, visibleRows, type Row} from './rows.js';

export interface DashboardState {
  /** The row the user moved to; undefined while the selection follows the running step. */
  selectedKey?: string;
  /** Matrix groups shown with their instances. */
  expanded: ReadonlySet<string>;
  /** The focused step's full log instead of the metrics panel. */
  showLog: boolean;
  /** The user pressed q: the run goes on without this view. */
  detached: boolean;
}

export type DashboardKey = 'up' | 'down' | 'page-up' | 'page-down' | 'toggle' | 'expand' | 'collapse' | 'log' | 'follow' | 'detach';

/** Rows a page key moves. */
const PAGE = 10;

export function initialDashboardState(): DashboardState {
  return {expanded: new Set(), showLog: false, detached: false};
}

/** Where the selection is in `rows`: the user's row if still listed, else the followed step's. */
export function selectedIndex(view: RunView, rows: readonly Row[], state: DashboardState): number {
  if (state.selectedKey !== undefined) {
    const index = rows.findIndex((r) => rowKey(r) === state.selectedKey);
    if (index >= 0) return index;
  }
  return followedIndex(view, rows);
}

/** The row of the step that started last and runs (its group's row when collapsed); else the one that ended last. */
function followedIndex(view: RunView, rows: readonly Row[]): number {
  const steps = view.order.map((i) => view.steps[i]).filter((s) => s !== undefined);
  const running = steps.filter((s) => s.state === 'running' || s.state === 'retrying');
  const ended = steps.filter((s) => isFinished(s.state) && s.state !== 'skipped');
  const target = (latest(running, (s) => s.startedAt) ?? latest(ended, (s) => s.endedAt))?.ref.instance;
  if (target === undefined) return 0;
  const index = rows.findIndex((r) => (r.type === 'step' ? r.step.ref.instance === target : !r.expanded && r.instances.some((s) => s.ref.instance === target)));
  return Math.max(0, index);
}

/** The step with the greatest time (the later one in run order on a tie). */
function latest(steps: readonly StepView[], time: (s: StepView) => number | undefined): StepView | undefined {
  let found: StepView | undefined;
  for (const s of steps) if (found === undefined || (time(s) ?? -Infinity) >= (time(found) ?? -Infinity)) found = s;
  return found;
}

export function reduceDashboard(state: DashboardState, key: DashboardKey, view: RunView): DashboardState {
  const rows = visibleRows(view, state.expanded);
  const current = selectedIndex(view, rows, state);
  const moveTo = (index: number): DashboardState => {
    const row = rows[Math.max(0, Math.min(rows.length - 1, index))];
    return row === undefined ? state : {...state, selectedKey: rowKey(row)};
  };
  switch (key) {
    case 'up':
      return moveTo(current - 1);
    case 'down':
      return moveTo(current + 1);
    case 'page-up':
      return moveTo(current - PAGE);
    case 'page-down':
      return moveTo(current + PAGE);
    case 'toggle':
    case 'expand':
    case 'collapse':
      return toggled(state, rows[current], key);
    case 'log':
      return {...state, showLog: !state.showLog};
    case 'follow':
      return {...state, selectedKey: undefined};
    case 'detach':
      return {...state, detached: true};
  }
}

/** Opens or closes the matrix group of the selected row (a group row, or one of its instances). */
function toggled(state: DashboardState, row: Row | undefined, key: 'toggle' | 'expand' | 'collapse'): DashboardState {
  const id = row?.type === 'group' ? row.id : row?.type === 'step' && row.depth === 1 ? row.step.ref.id : undefined;
  if (id === undefined || row === undefined) return state;
  const open = key === 'expand' || (key === 'toggle' && !state.expanded.has(id));
  const expanded = new Set(state.expanded);
  if (open) {
    expanded.add(id);
    return {...state, expanded, selectedKey: rowKey(row)};
  }
  expanded.delete(id);
  return {...state, expanded, selectedKey: `group:${id}`};
}
