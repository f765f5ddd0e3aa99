// `axx gc`: free cache space.
import {collectGarbage} from '../../engine/store/maintenance.js';
import {intOption, parseArgs} from '../args.js';
import {ExitCode, writeLine, type Command} from '../command.js';
import {cacheOption, openStore} from '../project.js';

export const gcCommand: Command = {
  name: 'gc',
  usage:
    'Usage: axx gc [--dry-run] [--keep-last N] [--cache dir] [--json]\n\n' +
    '  --keep-last N   keep only results used by the N most recent runs (and running ones), forget older runs no kept\n' +
    '                  result came from (their records and logs/<run>/), and drop memo entries none of the kept runs\n' +
    '                  wrote or read (default: keep every result, run and memo entry)\n' +
    '  --dry-run       report what would be removed, remove nothing',
  async run(argv, io) {
    const args = parseArgs(argv, [cacheOption, {name: 'dry-run', type: 'flag'}, {name: 'keep-last', type: 'string'}, {name: 'json', type: 'flag'}]);
    const keepLast = intOption(args, 'keep-last', 0);
    using store = openStore(args, io);
    const report = await collectGarbage(store, {dryRun: args.flags.has('dry-run'), ...(keepLast !== undefined ? {keepLast} : {}), now: Date.now()});
    if (args.flags.has('json')) writeLine(io.stdout, JSON.stringify(report));
    else {
      const verb = report.dryRun ? 'would remove' : 'removed';
      const runs = report.forgottenRuns || report.removedLogDirs ? `, ${report.forgottenRuns} runs (${report.removedLogDirs} log dirs)` : '';
      const memo = report.removedMemo ? `, ${report.removedMemo} memo entries` : '';
      writeLine(io.stdout, `${verb} ${report.droppedResults} results, ${report.removedBlobs} blobs, ${report.removedDirs} dir trees (${(report.freedBytes / 2 ** 20).toFixed(1)} MiB)${runs}${memo}${report.tempDirs ? `, ${report.tempDirs} leftover temp dirs` : ''}`);
    }
    return ExitCode.ok;
  },
};
