// `axx multipliers`: the multiplier library (EvoApprox circuits and a representative set of generated
// ones) with error metrics, 45 nm figures and table rank.
import {listMultipliers} from '../../approx/library.js';
import {characterize, type Characterization} from '../../approx/metrics.js';
import {parseArgs} from '../args.js';
import {ExitCode, UsageError, writeLine, type Command} from '../command.js';

const SORT_KEYS: Record<string, (c: Characterization) => number> = {
  power: (c) => c.hardware.powerMw ?? Infinity,
  mae: (c) => c.metrics.mae,
  rank: (c) => c.rank,
};

export const multipliersCommand: Command = {
  name: 'multipliers',
  usage: [
    'Usage: axx multipliers [--json] [--sort power|mae|rank]',
    '',
    '  --json   one JSON array: each circuit\'s name, id, operand kind, provenance, hardware figures, rank and error metrics',
    '  --sort   order by power (mW, circuits without figures last), mean absolute error or table rank',
    '',
    'Any generated family member (e.g. trunc8s_k5c, bam8u_h3_v7) or file (path.v, path.bin) also resolves; see README "Multipliers".',
  ].join('\n'),
  async run(argv, io) {
    const args = parseArgs(argv, [
      {name: 'json', type: 'flag'},
      {name: 'sort', type: 'string'},
    ]);
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
    const sort = args.strings.get('sort');
    const key = sort === undefined ? undefined : SORT_KEYS[sort];
    if (sort !== undefined && key === undefined) throw new UsageError(`--sort must be one of ${Object.keys(SORT_KEYS).join(', ')}, got "${sort}"`);
    const rows = listMultipliers().map((m) => characterize(m));
    if (key) rows.sort((x, y) => key(x) - key(y));
    if (args.flags.has('json')) writeLine(io.stdout, JSON.stringify(rows, null, 2));
    else for (const line of formatTable(rows)) writeLine(io.stdout, line);
    return ExitCode.ok;
  },
};

const fixed = (value: number | null, digits: number): string => (value === null ? '-' : value.toFixed(digits));

function formatTable(rows: readonly Characterization[]): string[] {
  const header = ['name', 'kind', 'source', 'power mW', 'area um2', 'MAE%', 'WCE%', 'EP%', 'bias', 'rank'];
  const cells = rows.map((c) => [
    c.name,
    c.signed ? 'signed' : 'unsigned',
    c.family ? `${c.source}:${c.family.name}` : c.source,
    fixed(c.hardware.powerMw, 3),
    fixed(c.hardware.areaUm2, 1),
    fixed(c.metrics.maePercent, 4),
    fixed(c.metrics.wcePercent, 3),
    fixed(c.metrics.epPercent, 2),
    fixed(c.metrics.meanError, 1),
    String(c.rank),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]?.length ?? 0)));
  const line = (row: readonly string[]): string =>
    row.map((cell, i) => (i < 3 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), ...cells.map(line)];
}
