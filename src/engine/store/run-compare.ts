// `axx runs --compare`: runs side by side, with the params that differ between them and the last
// value of each metric. A step a run took from the cache contributes the metrics of the run that
// computed it, so every run shows the numbers its results stand for.
import {canonicalJson} from '../canonical-json.js';
import type {Json} from '../step-kind.js';
import type {RunRecord} from './run-log.js';
import type {Store} from './store.js';

export interface RunComparison {
  params: string[];
  metrics: string[];
  rows: {run: RunRecord; params: Record<string, Json>; metrics: Record<string, number>}[];
}

export function compareRuns(store: Store, runs: readonly RunRecord[]): RunComparison {
  const rows = runs.map((run) => {
    const metrics: Record<string, number> = {};
    for (const step of store.runs.steps(run.id)) {
      const producer = step.key !== null ? (store.results.get(step.key)?.runId ?? run.id) : run.id;
      // Rows come in recording order, so the last write is the final value.
      for (const m of store.runs.metrics(producer, step.instance)) metrics[`${step.instance}.${m.name}`] = m.value;
    }
    return {run, params: run.params, metrics};
  });
  const paramNames = [...new Set(rows.flatMap((r) => Object.keys(r.params)))].sort();
  const differing = paramNames.filter((name) => new Set(rows.map((r) => canonicalJson(r.params[name] ?? null))).size > 1);
  const metricNames = [...new Set(rows.flatMap((r) => Object.keys(r.metrics)))].sort();
  return {params: differing.length > 0 ? differing : paramNames, metrics: metricNames, rows};
}
