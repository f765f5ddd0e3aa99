// `axx compare` without the store: runs as plain records in, one table out (a row per run attribute,
// step parameter and final metric, an evaluation's top-1 with its 95 % interval; a column per run),
// rendered as text, JSON or CSV.
import type {Json} from '../util/json.js';
import {wilsonInterval} from '../util/statistics.js';

export interface RunSnapshot {
  id: string;
  name: string;
  status: string;
  startedAt: number;
  endedAt: number | null;
  /** The pipeline's params after overrides (-p, --params), when the store recorded them. */
  params?: Record<string, Json>;
  steps: StepSnapshot[];
}

export interface StepSnapshot {
  instance: string;
  kind: string;
  /** ran, cached, failed … */
  state: string;
  /** The step's `with` as written (references unresolved); null when it never produced a result. */
  params: Json | null;
  /** In recorded order; the last value of each name is the one compared. */
  metrics: {name: string; value: number; x: number | null}[];
  /** An evaluation's top-1 and sample count (its metrics output), shown with its 95 % interval. */
  accuracy?: {top1: number; count: number};
}

export type Cell = string | number | boolean | null;

export interface ComparisonRow {
  kind: 'run' | 'param' | 'metric';
  key: string;
  /** One per run, in the order the runs were given; null where the run has no such entry. */
  values: Cell[];
  differs: boolean;
}

export interface Comparison {
  runs: {id: string; name: string}[];
  rows: ComparisonRow[];
}

/** Leaves of a JSON value by dotted path ("template.rows", "inputs[0]"); empty containers stay whole. */
function flatten(value: Json, prefix: string, into: Map<string, Cell>): void {
  if (Array.isArray(value) && value.length > 0) value.forEach((item, i) => flatten(item, `${prefix}[${i}]`, into));
  else if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) {
    for (const [key, item] of Object.entries(value)) flatten(item, prefix === '' ? key : `${prefix}.${key}`, into);
  } else into.set(prefix, Array.isArray(value) || (value !== null && typeof value === 'object') ? JSON.stringify(value) : value);
}

function runCells(run: RunSnapshot): Map<string, Cell> {
  const cells = new Map<string, Cell>([
    ['name', run.name],
    ['status', run.status],
    ['started', new Date(run.startedAt).toISOString().replace('T', ' ').slice(0, 19)],
    ['seconds', run.endedAt === null ? null : Number(((run.endedAt - run.startedAt) / 1000).toFixed(1))],
  ]);
  for (const step of run.steps) cells.set(`${step.instance}.state`, step.state);
  return cells;
}

function paramCells(run: RunSnapshot): Map<string, Cell> {
  const cells = new Map<string, Cell>();
  for (const [name, value] of Object.entries(run.params ?? {})) flatten(value, `params.${name}`, cells);
  for (const step of run.steps) if (step.params !== null) flatten(step.params, step.instance, cells);
  return cells;
}

function intervalCell({top1, count}: {top1: number; count: number}): string {
  const {low, high} = wilsonInterval(Math.round(top1 * count), count);
  return `${(100 * low).toFixed(2)}–${(100 * high).toFixed(2)}% (n=${count})`;
}

function metricCells(run: RunSnapshot): Map<string, Cell> {
  const cells = new Map<string, Cell>();
  for (const step of run.steps) {
    for (const m of step.metrics) cells.set(`${step.instance}.${m.name}`, m.value);
    if (step.accuracy !== undefined && step.accuracy.count > 0) cells.set(`${step.instance}.top1 95% interval`, intervalCell(step.accuracy));
  }
  return cells;
}

export function compareRuns(runs: readonly RunSnapshot[]): Comparison {
  const rows: ComparisonRow[] = [];
  for (const [kind, cellsOf] of [['run', runCells], ['param', paramCells], ['metric', metricCells]] as const) {
    const perRun = runs.map(cellsOf);
    // Keys in first-seen order over the runs, so a step added in a later run still appears.
    const keys = [...new Set(perRun.flatMap((cells) => [...cells.keys()]))];
    for (const key of keys) {
      const values = perRun.map((cells) => cells.get(key) ?? null);
      rows.push({kind, key, values, differs: values.some((v) => v !== values[0])});
    }
  }
  return {runs: runs.map((r) => ({id: r.id, name: r.name})), rows};
}

function cellText(cell: Cell): string {
  if (cell === null) return '–';
  if (typeof cell === 'number') return Number.isInteger(cell) ? String(cell) : Number(cell.toPrecision(6)).toString();
  return String(cell);
}

/** An aligned text table; rows that differ between runs are marked with "*". */
export function comparisonText(comparison: Comparison): string {
  const header = ['', ...comparison.runs.map((r) => r.id)];
  const body = comparison.rows.map((r) => [`${r.differs && comparison.runs.length > 1 ? '*' : ' '} ${r.kind === 'run' ? r.key : `${r.kind} ${r.key}`}`, ...r.values.map(cellText)]);
  const widths = header.map((_, c) => Math.max(...[header, ...body].map((row) => row[c]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...body.map(line)].join('\n');
}

function csvField(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** RFC 4180 CSV: kind, key, differs, then one column per run id; empty where a run has no value. */
export function comparisonCsv(comparison: Comparison): string {
  const lines = [['kind', 'key', 'differs', ...comparison.runs.map((r) => r.id)]];
  for (const r of comparison.rows) lines.push([r.kind, r.key, String(r.differs), ...r.values.map((v) => (v === null ? '' : String(v)))]);
  return `${lines.map((fields) => fields.map(csvField).join(',')).join('\r\n')}\r\n`;
}
