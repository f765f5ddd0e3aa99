// `axx compare <run…>`: runs side by side — run status, every step's parameters and final metrics —
// as an aligned table (differing rows marked), JSON or CSV. The table logic is src/report/run-comparison.ts.
import type {Store} from '../../engine/store/store.js';
import {compareRuns, comparisonCsv, comparisonText, type RunSnapshot} from '../../report/index.js';
import {parseArgs} from '../args.js';
import {ExitCode, UsageError, writeLine, type Command} from '../command.js';
import {axxCommand} from '../invocation.js';
import {cacheOption, openStore} from '../project.js';
import {listRunsCommand} from '../run-scope.js';

function findRun(store: Store, prefix: string, listRuns: string): string {
  const matches = store.runs.list(2, prefix);
  if (matches.length === 0) throw new UsageError(`no run "${prefix}"; ${listRuns} lists runs`);
  if (matches.length > 1) throw new UsageError(`run id prefix "${prefix}" is ambiguous; give more characters`);
  return matches[0]!.id;
}

/** A run as the comparison sees it. A cached step's params and metrics come from the run that computed it. */
function snapshot(store: Store, runId: string): RunSnapshot {
  const run = store.runs.get(runId)!;
  return {
    id: run.id,
    name: run.name,
    status: run.status,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    params: run.params,
    steps: store.runs.steps(runId).map((step) => {
      const result = step.key !== null ? store.results.get(step.key) : undefined;
      const metrics = result !== undefined ? store.runs.metrics(result.runId, result.instance) : store.runs.metrics(runId, step.instance);
      const value = result?.outputs['metrics'];
      const evaluation = value?.type === 'value' ? (value.value as {top1?: unknown; count?: unknown}) : undefined;
      const accuracy = typeof evaluation?.top1 === 'number' && typeof evaluation.count === 'number' ? {top1: evaluation.top1, count: evaluation.count} : undefined;
      return {instance: step.instance, kind: step.kind, state: step.state, params: result?.keyParts.params ?? null, metrics, ...(accuracy !== undefined ? {accuracy} : {})};
    }),
  };
}

export const compareCommand: Command = {
  name: 'compare',
  usage: [
    'Usage: axx compare [run-id…] [--diff] [--json | --csv] [--cache dir]',
    '',
    'Run ids may be unique prefixes (axx runs lists them); without any, the two most recent runs.',
    'Rows marked * differ between the runs; --diff shows only those. A cached step shows the',
    'parameters and metrics of the run that computed it. An evaluation shows its top-1 with the 95%',
    'Wilson interval and sample count: runs whose intervals overlap may not differ at all.',
  ].join('\n'),
  async run(argv, io) {
    const args = parseArgs(argv, [cacheOption, {name: 'diff', type: 'flag'}, {name: 'json', type: 'flag'}, {name: 'csv', type: 'flag'}]);
    if (args.flags.has('json') && args.flags.has('csv')) throw new UsageError('give --json or --csv, not both');
    using store = openStore(args, io);
    store.runs.recoverStale(Date.now());
    const ids = args.positionals.length > 0 ? args.positionals.map((prefix) => findRun(store, prefix, listRunsCommand(args, io))) : store.runs.list(2).map((r) => r.id).reverse();
    if (ids.length === 0) {
      writeLine(io.stderr, `axx compare: no runs yet; ${axxCommand(io, ['run'])} <pipeline.yaml> makes one`);
      return ExitCode.usage;
    }
    const all = compareRuns(ids.map((id) => snapshot(store, id)));
    // --diff keeps the run rows (name, status …) as context for the differences.
    const comparison = args.flags.has('diff') ? {...all, rows: all.rows.filter((r) => r.differs || r.kind === 'run')} : all;
    if (args.flags.has('json')) writeLine(io.stdout, JSON.stringify(comparison));
    else if (args.flags.has('csv')) io.stdout.write(comparisonCsv(comparison));
    else writeLine(io.stdout, comparisonText(comparison));
    return ExitCode.ok;
  },
};
