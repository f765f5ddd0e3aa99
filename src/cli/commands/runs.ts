// `axx runs`: recent runs with their status and step counts (`axx compare` sets runs side by side).
import {intOption, parseArgs} from '../args.js';
import {ExitCode, writeLine, type Command} from '../command.js';
import {cacheOption, openStore} from '../project.js';

export const runsCommand: Command = {
  name: 'runs',
  usage:
    'Usage: axx runs [--limit N] [--pipeline name] [--cache dir] [--json]\n\n' +
    '  --pipeline name   only runs of this pipeline (its name: field or file name)\n' +
    'To set runs side by side (params and metrics), use axx compare.',
  async run(argv, io) {
    const args = parseArgs(argv, [cacheOption, {name: 'limit', type: 'string'}, {name: 'json', type: 'flag'}, {name: 'pipeline', type: 'string'}]);
    const limit = intOption(args, 'limit', 1) ?? 20;
    using store = openStore(args, io);
    store.runs.recoverStale(Date.now());
    const pipeline = args.strings.get('pipeline');
    const runs = store.runs.list(pipeline === undefined ? limit : 10_000).filter((r) => pipeline === undefined || r.name === pipeline).slice(0, limit);
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
