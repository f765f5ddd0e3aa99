// `axx runs`: recent runs with their status and step counts, or (--compare) their params and metrics side by side.
import {compareRuns} from '../../engine/store/run-compare.js';
import {intOption, parseArgs} from '../args.js';
import {ExitCode, writeLine, type Command} from '../command.js';
import {cacheOption, openStore} from '../project.js';

export const runsCommand: Command = {
  name: 'runs',
  summary: 'list recent runs, or compare their params and metrics (--compare)',
  usage:
    'Usage: axx runs [--limit N] [--compare] [--pipeline name] [--cache dir] [--json]\n\n' +
    '  --compare         a table: one row per run, the params that differ between the runs, the last value of every metric\n' +
    '  --pipeline name   only runs of this pipeline (its name: field or file name)',
  async run(argv, io) {
    const args = parseArgs(argv, [cacheOption, {name: 'limit', type: 'string'}, {name: 'json', type: 'flag'}, {name: 'compare', type: 'flag'}, {name: 'pipeline', type: 'string'}]);
    const limit = intOption(args, 'limit', 1) ?? 20;
    using store = openStore(args, io);
    store.runs.recoverStale(Date.now());
    const pipeline = args.strings.get('pipeline');
    const runs = store.runs.list(pipeline === undefined ? limit : 10_000).filter((r) => pipeline === undefined || r.name === pipeline).slice(0, limit);
    if (args.flags.has('compare')) {
      const table = compareRuns(store, runs);
      if (args.flags.has('json')) writeLine(io.stdout, JSON.stringify(table));
      else writeLine(io.stdout, formatTable(['run', 'status', ...table.params, ...table.metrics], table.rows.map((r) => [r.run.id, r.run.status, ...table.params.map((p) => cell(r.params[p])), ...table.metrics.map((m) => cell(r.metrics[m]))])));
      return ExitCode.ok;
    }
    const rows = runs.map((run) => {
      const steps = store.runs.steps(run.id);
      const count = (state: string): number => steps.filter((s) => s.state === state).length;
      return {...run, ran: count('ran'), cached: count('cached'), failed: count('failed'), steps: steps.length};
    });
    if (args.flags.has('json')) {
      writeLine(io.stdout, JSON.stringify(rows));
      return ExitCode.ok;
    }
    if (rows.length === 0) writeLine(io.stdout, 'no runs yet');
    for (const r of rows) {
      const took = r.endedAt !== null && r.status !== 'running' ? `${((r.endedAt - r.startedAt) / 1000).toFixed(1)}s` : '-';
      writeLine(io.stdout, `${r.id}  ${r.status.padEnd(11)} ${new Date(r.startedAt).toISOString().slice(0, 19).replace('T', ' ')}  ${took.padStart(7)}  ${r.name}: ${r.ran} ran, ${r.cached} cached${r.failed ? `, ${r.failed} failed` : ''}`);
    }
    return ExitCode.ok;
  },
};

function cell(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toPrecision(4);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
