// The dashboard's pure view: plain props in, frame out. Keyboard handling and throttling live in
// dashboard.tsx, so every state can be rendered (and tested) without a terminal.
//
// Every frame fits the terminal: at most `height - 1` lines (ink clears the whole screen, scrollback
// included, once a frame is as tall as the terminal) and every line truncated to `columns`. The header
// comes first and always stays; the step list, metrics and log share what is left (see planLayout).
import React from 'react';
import {Box, Text} from 'ink';
import {countSteps, etaSeconds, type MetricView, type RunView, type StepView} from './run-view.js';
import {focusedInstance, summarizeGroup, type Row} from './rows.js';
import {formatDuration, formatNumber, formatRate, percent, progressBar, sparkline, STATE_ICONS} from './format.js';

export interface DashboardViewProps {
  view: RunView;
  rows: Row[];
  selected: number;
  now: number;
  columns: number;
  height: number;
  /** Show the full log of the focused step instead of the metrics panel. */
  showLog: boolean;
  /** Set once the user pressed q: the run goes on without this view. */
  detached?: boolean;
  /** Per step kind, what an interrupted run keeps of a running step (kinds without one restart). */
  interruptNotes?: Readonly<Record<string, string>>;
}

const STATE_COLORS: Record<string, string> = {
  running: 'cyan',
  retrying: 'yellow',
  ran: 'green',
  cached: 'blue',
  failed: 'red',
  interrupted: 'yellow',
};

const HEADER_LINES = 2;
/** Metrics of the focused step shown at most; other running steps get one line each. */
const FOCUS_METRICS = 6;
/** The kind column is dropped below this width so progress and ETA keep their room. */
const KIND_COLUMN_MIN_WIDTH = 100;
/** Log lines wanted: the tail of every step's log beside the metrics, more of the focused step's alone. */
const LOG_LINES_ALL = 4;
const LOG_LINES_FOCUSED = 12;

interface Layout {
  /** Lines for the step list, its "more" line included. */
  list: number;
  metrics: number;
  log: number;
}

/**
 * Shares `available` lines: a few list rows first, then the metrics and log panels up to what they
 * want, then the rest of the list. Every count is a number of terminal lines.
 */
function planLayout(available: number, want: Layout): Layout {
  let left = Math.max(0, available);
  const take = (n: number): number => {
    const got = Math.max(0, Math.min(n, left));
    left -= got;
    return got;
  };
  const listFirst = take(Math.min(want.list, 3));
  const metrics = take(want.metrics);
  const log = take(want.log);
  return {list: listFirst + take(want.list - listFirst), metrics: metrics >= 2 ? metrics : 0, log: log >= 2 ? log : 0};
}

export function DashboardView(props: DashboardViewProps): React.ReactElement {
  const {view, rows, selected, now, columns} = props;
  const focus = focusedInstance(view, rows[selected]);
  const errorLines = errorPanelLines(view, columns);
  const footerLines = footerText(view, props);
  const metricLines = props.showLog ? [] : metricsLines(view, focus, columns);
  const log = logLines(view, props.showLog ? focus : undefined);
  const layout = planLayout(props.height - 1 - HEADER_LINES - errorLines.length - footerLines.length, {
    list: rows.length,
    metrics: metricLines.length,
    log: Math.min(log.lines.length, props.showLog ? LOG_LINES_FOCUSED : LOG_LINES_ALL) + 1,
  });
  const list = listWindow(rows.length, selected, layout.list);
  const nameWidth = Math.min(32, Math.floor(columns * 0.4), Math.max(8, ...rows.map((r) => rowLabel(r).length)));
  const showKind = columns >= KIND_COLUMN_MIN_WIDTH;
  return (
    <Box flexDirection="column" width={columns}>
      <Header view={view} now={now} />
      {rows.slice(list.first, list.first + list.shown).map((row, i) => (
        <RowLine key={row.type === 'group' ? `g:${row.id}` : `s:${row.step.ref.instance}`} row={row} selected={list.first + i === selected} now={now} columns={columns} nameWidth={nameWidth} showKind={showKind} />
      ))}
      {list.more !== '' && <Text dimColor wrap="truncate">  {list.more}</Text>}
      {metricLines.slice(0, layout.metrics).map((line, i) => (
        <Text key={`m${i}`} wrap="truncate" bold={i === 0}>{line}</Text>
      ))}
      {layout.log > 0 && <LogPanel title={log.title} lines={log.lines.slice(-(layout.log - 1))} />}
      {errorLines.map((line, i) => (
        <Text key={`e${i}`} wrap="truncate" color={line.color}>{line.text}</Text>
      ))}
      {footerLines.map((line, i) => (
        <Text key={`f${i}`} dimColor wrap="truncate">{line}</Text>
      ))}
    </Box>
  );
}

/** Which rows fit in `lines`: all of them, or a window around the selection plus one "more" line. */
function listWindow(count: number, selected: number, lines: number): {first: number; shown: number; more: string} {
  if (count <= lines) return {first: 0, shown: count, more: ''};
  const shown = Math.max(1, lines - 1);
  const first = Math.min(Math.max(0, selected - Math.floor(shown / 2)), count - shown);
  const above = first;
  const below = count - first - shown;
  return {first, shown, more: [above > 0 ? `↑ ${above} more` : '', below > 0 ? `↓ ${below} more` : ''].filter((s) => s !== '').join(' · ')};
}

function Header({view, now}: {view: RunView; now: number}): React.ReactElement {
  const counts = countSteps(view);
  const end = view.endedAt ?? now;
  const elapsed = view.startedAt === undefined ? '' : formatDuration(end - view.startedAt);
  const finished = counts.ran + counts.cached + counts.failed;
  const outcome = view.outcome ? ` ${view.outcome.toUpperCase()}` : '';
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">
        <Text bold>axx</Text> ▸ <Text bold>{view.pipeline ?? '…'}</Text>  {elapsed}
        <Text color={view.outcome === 'passed' ? 'green' : view.outcome ? 'red' : undefined}>{outcome}</Text>  run {view.runId ?? '…'}
      </Text>
      <Text dimColor wrap="truncate">
        steps {finished}/{counts.total} done · {counts.ran} ran · {counts.cached} cached · {counts.failed} failed · {counts.running} running
      </Text>
    </Box>
  );
}

/** The name column of a row: step instance, matrix group with its size, or an instance's matrix values. */
function rowLabel(row: Row): string {
  if (row.type === 'group') return `${row.expanded ? '▾' : '▸'} ${row.id} ×${row.instances.length}`;
  const s = row.step;
  return row.depth === 1 ? `    ${s.ref.instance.slice(s.ref.id.length) || s.ref.instance}` : s.ref.instance;
}

function fitName(label: string, width: number): string {
  return label.length > width ? `${label.slice(0, width - 1)}…` : label.padEnd(width);
}

function RowLine(props: {row: Row; selected: boolean; now: number; columns: number; nameWidth: number; showKind: boolean}): React.ReactElement {
  const {row, selected, now, columns, nameWidth, showKind} = props;
  const cursor = selected ? '›' : ' ';
  const kind = row.type === 'group' ? row.kind : row.step.ref.kind;
  const kindColumn = showKind ? `${kind.padEnd(12)}  ` : '';
  // cursor, icon, space, name, two spaces, kind column: what is left is for the detail.
  const detailWidth = columns - 3 - nameWidth - 2 - kindColumn.length;
  let state: string;
  let icon: string;
  let detail: string;
  if (row.type === 'group') {
    const g = summarizeGroup(row.instances);
    state = g.failed > 0 ? 'failed' : g.running > 0 ? 'running' : g.finished === g.total ? 'ran' : 'waiting';
    icon = g.failed > 0 ? STATE_ICONS.failed : g.running > 0 ? STATE_ICONS.running : g.finished === g.total ? STATE_ICONS.ran : STATE_ICONS.waiting;
    const counts = [g.cached > 0 ? `${g.cached} cached` : '', g.running > 0 ? `${g.running} running` : '', g.failed > 0 ? `${g.failed} failed` : ''];
    detail = fitDetail(`${g.finished}/${g.total} ${percent(g.finished, g.total)}`, counts.filter((c) => c !== '').map((c) => `· ${c}`), progressBar(g.finished, g.total, barWidth(columns)), detailWidth);
  } else {
    state = row.step.state;
    icon = STATE_ICONS[row.step.state];
    detail = stepDetail(row.step, now, columns, detailWidth);
  }
  return (
    <Text wrap="truncate" inverse={selected}>
      {cursor}<Text color={STATE_COLORS[state]}>{icon}</Text> {fitName(rowLabel(row), nameWidth)}  <Text dimColor>{kindColumn}</Text>{detail}
    </Text>
  );
}

/**
 * The detail column within `width`: the essential part always, then the optional parts in order of
 * importance while they fit, then the progress bar in front if there is still room.
 */
function fitDetail(essential: string, optional: readonly string[], bar: string, width: number): string {
  let text = essential;
  for (const part of optional) if (part !== '' && text.length + 2 + part.length <= width) text = text === '' ? part : `${text}  ${part}`;
  return bar !== '' && bar.length + 1 + text.length <= width ? `${bar} ${text}` : text;
}

function stepDetail(s: StepView, now: number, columns: number, width: number): string {
  const retry = s.retries > 0 ? `retry ${s.retries}` : '';
  if (s.state === 'running' || s.state === 'retrying') {
    const unit = s.unit ? ` ${s.unit}` : '';
    const known = s.total !== undefined && s.done !== undefined;
    const count = known ? `${s.done}/${s.total}${unit} ${percent(s.done!, s.total!)}` : s.done !== undefined ? `${s.done}${unit}` : '';
    const eta = etaSeconds(s);
    const elapsed = s.startedAt !== undefined ? formatDuration(now - s.startedAt) : '';
    const optional = [taskCounts(s), worker(s), eta !== undefined ? `ETA ${formatDuration(eta * 1000)}` : '', retry, formatRate(s.rate, s.unit), elapsed];
    return fitDetail(count, optional, known ? progressBar(s.done!, s.total!, barWidth(columns)) : '', width);
  }
  const outcome = s.state === 'cached' ? 'cached' : s.startedAt !== undefined && s.endedAt !== undefined ? formatDuration(s.endedAt - s.startedAt) : '';
  return fitDetail(outcome, [retry, worker(s), taskCounts(s)], '', width);
}

/** The step's tasks on a queue's workers: waiting, running, done. */
function taskCounts(s: StepView): string {
  return s.tasks === undefined ? '' : `tasks ${s.tasks.queued} queued · ${s.tasks.running} running · ${s.tasks.done} done`;
}

function worker(s: StepView): string {
  return s.worker === undefined ? '' : `on ${s.worker}`;
}

function barWidth(columns: number): number {
  return Math.max(6, Math.min(24, Math.floor(columns / 6)));
}

/**
 * The metrics panel as lines: title and up to FOCUS_METRICS metrics of the focused step, then one line
 * per other running step with its newest metric, so a second running step's metrics stay in sight.
 */
function metricsLines(view: RunView, focus: string | undefined, columns: number): string[] {
  const lines: string[] = [];
  const focused = focus !== undefined ? Object.values(view.metrics[focus] ?? {}) : [];
  if (focused.length > 0) {
    lines.push(`Metrics · ${focus}`);
    for (const m of focused.slice(0, FOCUS_METRICS)) {
      const text = `  ${m.name.padEnd(14)} ${formatNumber(m.last).padStart(10)}  min ${formatNumber(m.min)}  max ${formatNumber(m.max)}`;
      lines.push(withSpark(text, m, columns));
    }
  }
  const others = view.order.filter((i) => i !== focus && view.steps[i]?.state === 'running' && Object.keys(view.metrics[i] ?? {}).length > 0);
  if (others.length > 0 && lines.length === 0) lines.push('Metrics of running steps');
  for (const instance of others) {
    const metrics = Object.values(view.metrics[instance] ?? {});
    const newest = metrics[metrics.length - 1]!;
    lines.push(withSpark(`  ${instance}: ${newest.name} ${formatNumber(newest.last)}`, newest, columns));
  }
  return lines;
}

/** Appends the metric's sparkline, as many of its newest points as fit the width. */
function withSpark(text: string, m: MetricView, columns: number): string {
  const room = columns - text.length - 2;
  if (m.series.length < 2 || room < 4) return text;
  return `${text}  ${sparkline(m.series.slice(-room))}`;
}

function logLines(view: RunView, instance: string | undefined): {title: string; lines: {text: string; stderr: boolean}[]} {
  const source = instance ? view.log.filter((l) => l.instance === instance) : view.log;
  const lines = source.map((l) => ({text: `  ${instance ? '' : `[${l.instance}] `}${printable(l.text)}`, stderr: l.stream === 'stderr'}));
  if (instance && lines.length === 0) return {title: `(no log lines from ${instance})`, lines: []};
  return {title: instance ? `Log · ${instance}` : lines.length > 0 ? 'Log' : '', lines};
}

/** Log text as one terminal line: escape sequences dropped, tabs and control characters as spaces. */
function printable(text: string): string {
  return text.replace(/\u001B\[[0-9;?]*[A-Za-z]/g, '').replace(/[\u0000-\u001F\u007F]/g, ' ');
}

function LogPanel({title, lines}: {title: string; lines: {text: string; stderr: boolean}[]}): React.ReactElement | null {
  if (title === '') return null;
  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate">{title}</Text>
      {lines.map((l, i) => (
        <Text key={i} wrap="truncate" color={l.stderr ? 'yellow' : undefined}>{l.text}</Text>
      ))}
    </Box>
  );
}

/** The last error (wrapped to at most three lines), its hint and the resume command. */
function errorPanelLines(view: RunView, columns: number): {text: string; color?: string}[] {
  const e = view.lastError;
  const lines: {text: string; color?: string}[] = [];
  if (e) {
    const message = printable(`✖ ${e.instance ? `${e.instance}: ` : ''}${e.location ? `${e.location}: ` : ''}${e.message}`);
    for (let at = 0; at < message.length && lines.length < 3; at += columns) lines.push({text: message.slice(at, at + columns), color: 'red'});
    if (e.hint) lines.push({text: `  hint: ${printable(e.hint)}`, color: 'yellow'});
  }
  if (view.resumeCommand) lines.push({text: `  resume with: ${view.resumeCommand}`});
  return lines;
}

function footerText(view: RunView, props: DashboardViewProps): string[] {
  // The command to reattach is printed once the dashboard has let go of the terminal (it knows the cache).
  if (props.detached) return [`detached — run ${view.runId ?? ''} continues`];
  if (view.outcome) return [`run ${view.outcome} · q quit`];
  return [`↑↓ select · enter expand · l ${props.showLog ? 'metrics' : 'log'} · f follow · q detach`, `ctrl-c stop: ${interruptEffect(view, props.interruptNotes ?? {})}`];
}

/** What Ctrl-C costs right now, from what each running step's kind says it keeps. */
function interruptEffect(view: RunView, notes: Readonly<Record<string, string>>): string {
  const running = view.order.map((i) => view.steps[i]).filter((s): s is StepView => s !== undefined && (s.state === 'running' || s.state === 'retrying'));
  const keeping = [...new Set(running.filter((s) => notes[s.ref.kind] !== undefined).map((s) => `${s.ref.kind} ${notes[s.ref.kind]}`))];
  const restarting = running.filter((s) => notes[s.ref.kind] === undefined).map((s) => s.ref.instance);
  const parts = ['finished steps stay cached', ...keeping];
  if (restarting.length > 0) parts.push(`${restarting.join(', ')} restart${restarting.length === 1 ? 's' : ''} from scratch`);
  return parts.join('; ');
}
