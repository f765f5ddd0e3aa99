// Flattens a run into the selectable rows the dashboard lists: one row per plain step, one per matrix
// group (with its instances below it when expanded).
import {groupSteps, isFinished, type RunView, type StepView} from './run-view.js';

export type Row =
  | {type: 'step'; step: StepView; depth: 0 | 1}
  | {type: 'group'; id: string; kind: string; instances: StepView[]; expanded: boolean};

export function visibleRows(view: RunView, expanded: ReadonlySet<string>): Row[] {
  const rows: Row[] = [];
  for (const group of groupSteps(view)) {
    const first = group.instances[0];
    if (!first) continue;
    const isMatrix = group.instances.length > 1 || first.ref.instance !== first.ref.id;
    if (!isMatrix) {
      rows.push({type: 'step', step: first, depth: 0});
      continue;
    }
    const open = expanded.has(group.id);
    rows.push({type: 'group', id: group.id, kind: first.ref.kind, instances: group.instances, expanded: open});
    if (open) for (const step of group.instances) rows.push({type: 'step', step, depth: 1});
  }
  return rows;
}

export function rowKey(row: Row): string {
  return row.type === 'group' ? `group:${row.id}` : `step:${row.step.ref.instance}`;
}

export interface GroupSummary {
  finished: number;
  running: number;
  failed: number;
  cached: number;
  total: number;
}

export function summarizeGroup(instances: readonly StepView[]): GroupSummary {
  const summary: GroupSummary = {finished: 0, running: 0, failed: 0, cached: 0, total: instances.length};
  for (const s of instances) {
    if (isFinished(s.state)) summary.finished++;
    if (s.state === 'running' || s.state === 'retrying') summary.running++;
    if (s.state === 'failed') summary.failed++;
    if (s.state === 'cached') summary.cached++;
  }
  return summary;
}

/** The instance whose metrics and log the dashboard shows: the selected one, else the newest running one. */
export function focusedInstance(view: RunView, row: Row | undefined): string | undefined {
  if (row?.type === 'step') return row.step.ref.instance;
  if (row?.type === 'group') {
    const running = row.instances.find((s) => s.state === 'running');
    return (running ?? row.instances[row.instances.length - 1])?.ref.instance;
  }
  const running = view.order.filter((i) => view.steps[i]?.state === 'running');
  return running[running.length - 1];
}
