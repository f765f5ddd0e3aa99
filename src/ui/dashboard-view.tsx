// The dashboard's pure view: plain props in, frame out. Keyboard handling and throttling live in
// dashboard.tsx, so every state can be rendered (and tested) without a terminal.
import React from 'react';
import {Box, Text} from 'ink';
import {countSteps, etaSeconds, type RunView, type StepView} from './run-view.js';
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
}

const STATE_COLORS: Record<string, string> = {
  running: 'cyan',
  retrying: 'yellow',
  ran: 'green',
  cached: 'blue',
  failed: 'red',
  interrupted: 'yellow',
};

export function DashboardView(props: DashboardViewProps): React.ReactElement {
  const {view, rows, selected, now, columns} = props;
  const focus = focusedInstance(view, rows[selected]);
  const logLines = props.showLog ? 12 : 4;
  // Header 2 lines, panels ~8-16, footer 1: the rest lists steps, scrolled to keep the selection visible.
  const listHeight = Math.max(3, props.height - (props.showLog ? 18 : 14));
  const first = Math.min(Math.max(0, selected - Math.floor(listHeight / 2)), Math.max(0, rows.length - listHeight));
  const windowRows = rows.slice(first, first + listHeight);
  const nameWidth = Math.min(32, Math.max(8, ...rows.map((r) => rowLabel(r).length)));
  return (
    <Box flexDirection="column" width={columns}>
      <Header view={view} now={now} />
      {first > 0 && <Text dimColor>  ↑ {first} more</Text>}
      {windowRows.map((row, i) => (
        <RowLine key={row.type === 'group' ? `g:${row.id}` : `s:${row.step.ref.instance}`} row={row} selected={first + i === selected} now={now} columns={columns} nameWidth={nameWidth} />
      ))}
      {first + listHeight < rows.length && <Text dimColor>  ↓ {rows.length - first - listHeight} more</Text>}
      {!props.showLog && focus && <MetricsPanel view={view} instance={focus} />}
      <LogPanel view={view} instance={props.showLog ? focus : undefined} lines={logLines} columns={columns} />
      <ErrorPanel view={view} />
      <Footer view={view} showLog={props.showLog} detached={props.detached} />
    </Box>
  );
}

function Header({view, now}: {view: RunView; now: number}): React.ReactElement {
  const counts = countSteps(view);
  const end = view.endedAt ?? now;
  const elapsed = view.startedAt === undefined ? '' : formatDuration(end - view.startedAt);
  const finished = counts.ran + counts.cached + counts.failed;
  const outcome = view.outcome ? `  ${view.outcome.toUpperCase()}` : '';
  return (
    <Box flexDirection="column">
      <Text>
        <Text bold>axx</Text> ▸ <Text bold>{view.pipeline ?? '…'}</Text>  run {view.runId ?? '…'}  elapsed {elapsed}
        <Text color={view.outcome === 'passed' ? 'green' : view.outcome ? 'red' : undefined}>{outcome}</Text>
      </Text>
      <Text dimColor>
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

function RowLine(props: {row: Row; selected: boolean; now: number; columns: number; nameWidth: number}): React.ReactElement {
  const {row, selected, now, columns, nameWidth} = props;
  const cursor = selected ? '›' : ' ';
  if (row.type === 'group') {
    const g = summarizeGroup(row.instances);
    const state = g.failed > 0 ? 'failed' : g.running > 0 ? 'running' : g.finished === g.total ? 'ran' : 'waiting';
    const icon = g.failed > 0 ? STATE_ICONS.failed : g.running > 0 ? STATE_ICONS.running : g.finished === g.total ? STATE_ICONS.ran : STATE_ICONS.waiting;
    return (
      <Text wrap="truncate" inverse={selected}>
        {cursor}<Text color={STATE_COLORS[state]}>{icon}</Text> {rowLabel(row).padEnd(nameWidth)}  <Text dimColor>{row.kind.padEnd(12)}</Text>{'  '}
        {progressBar(g.finished, g.total, barWidth(columns))} {g.finished}/{g.total} {percent(g.finished, g.total)}
        {g.cached > 0 ? ` · ${g.cached} cached` : ''}{g.running > 0 ? ` · ${g.running} running` : ''}{g.failed > 0 ? ` · ${g.failed} failed` : ''}
      </Text>
    );
  }
  const s = row.step;
  return (
    <Text wrap="truncate" inverse={selected}>
      {cursor}<Text color={STATE_COLORS[s.state]}>{STATE_ICONS[s.state]}</Text> {rowLabel(row).padEnd(nameWidth)}  <Text dimColor>{s.ref.kind.padEnd(12)}</Text>  {stepDetail(s, now, columns)}
    </Text>
  );
}

function stepDetail(s: StepView, now: number, columns: number): string {
  const parts: string[] = [];
  if (s.state === 'running' || s.state === 'retrying') {
    if (s.total !== undefined && s.done !== undefined) {
      parts.push(`${progressBar(s.done, s.total, barWidth(columns))} ${s.done}/${s.total}${s.unit ? ` ${s.unit}` : ''} ${percent(s.done, s.total)}`);
    } else if (s.done !== undefined) {
      parts.push(`${s.done}${s.unit ? ` ${s.unit}` : ''}`);
    }
    const rate = formatRate(s.rate, s.unit);
    if (rate) parts.push(rate);
    const eta = etaSeconds(s);
    if (eta !== undefined) parts.push(`ETA ${formatDuration(eta * 1000)}`);
    if (s.startedAt !== undefined) parts.push(formatDuration(now - s.startedAt));
  } else if (s.state === 'cached') {
    parts.push('cached');
  } else if (s.startedAt !== undefined && s.endedAt !== undefined) {
    parts.push(formatDuration(s.endedAt - s.startedAt));
  }
  if (s.retries > 0) parts.push(`retry ${s.retries}`);
  return parts.join('  ');
}

function barWidth(columns: number): number {
  return Math.max(6, Math.min(24, Math.floor(columns / 6)));
}

function MetricsPanel({view, instance}: {view: RunView; instance: string}): React.ReactElement | null {
  const metrics = Object.values(view.metrics[instance] ?? {});
  if (metrics.length === 0) return null;
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text bold>Metrics · {instance}</Text>
      {metrics.slice(0, 6).map((m) => (
        <Text key={m.name} wrap="truncate">
          {'  '}{m.name.padEnd(14)} {formatNumber(m.last).padStart(10)}  min {formatNumber(m.min)}  max {formatNumber(m.max)}  {m.series.length > 1 ? sparkline(m.series) : ''}
        </Text>
      ))}
    </Box>
  );
}

function LogPanel({view, instance, lines, columns}: {view: RunView; instance?: string; lines: number; columns: number}): React.ReactElement | null {
  const source = instance ? view.log.filter((l) => l.instance === instance) : view.log;
  const tail = source.slice(-lines);
  if (tail.length === 0) return instance ? <Text dimColor>(no log lines from {instance})</Text> : null;
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text bold>{instance ? `Log · ${instance}` : 'Log'}</Text>
      {tail.map((l, i) => (
        <Text key={i} wrap="truncate" color={l.stream === 'stderr' ? 'yellow' : undefined}>
          {'  '}{instance ? '' : `[${l.instance}] `}{l.text.slice(0, columns)}
        </Text>
      ))}
    </Box>
  );
}

function ErrorPanel({view}: {view: RunView}): React.ReactElement | null {
  const e = view.lastError;
  if (!e && !view.resumeCommand) return null;
  return (
    <Box flexDirection="column" marginTop={1}>
      {e && (
        <Text color="red" wrap="wrap">
          ✖ {e.instance ? `${e.instance}: ` : ''}{e.location ? `${e.location}: ` : ''}{e.message}
        </Text>
      )}
      {e?.hint && <Text color="yellow">  hint: {e.hint}</Text>}
      {view.resumeCommand && <Text>  resume with: <Text bold>{view.resumeCommand}</Text></Text>}
    </Box>
  );
}

function Footer({view, showLog, detached}: {view: RunView; showLog: boolean; detached?: boolean}): React.ReactElement {
  if (detached) return <Text dimColor>detached — the run continues; reattach with: axx watch {view.runId ?? ''}</Text>;
  if (view.outcome) return <Text dimColor>run {view.outcome} · q quit</Text>;
  return <Text dimColor>↑↓ select · enter expand · l {showLog ? 'metrics' : 'log'} · q detach · ctrl-c interrupt</Text>;
}
