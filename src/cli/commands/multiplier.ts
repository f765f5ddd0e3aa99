// `axx multiplier show <name>`: one multiplier's provenance, hardware figures, rank, error metrics and
// a terminal heatmap of where its errors are.
import {isMultiplierInputError, resolveMultiplier} from '../../approx/library.js';
import {characterize, type ErrorMetrics} from '../../approx/metrics.js';
import {operandValue, type Multiplier} from '../../approx/multiplier.js';
import {parseArgs} from '../args.js';
import {ExitCode, UsageError, writeLine, type Command} from '../command.js';

export const multiplierCommand: Command = {
  name: 'multiplier',
  usage: [
    'Usage: axx multiplier show <name> [--json]',
    '',
    '  <name>   a library circuit (mul8s_1L2H, exact8u), a generated one (trunc8s_k4c, drum8u_k4) or a file (my_mult.v, my_mults.v#module, table.bin)',
    '  --json   the characterization as JSON (no heatmap)',
  ].join('\n'),
  async run(argv, io) {
    const args = parseArgs(argv, [{name: 'json', type: 'flag'}]);
    const [action, name, extra] = args.positionals;
    if (action !== 'show') throw new UsageError(action === undefined ? 'missing subcommand: axx multiplier show <name>' : `unknown subcommand "${action}" (only "show")`);
    if (name === undefined) throw new UsageError('missing multiplier name: axx multiplier show <name>');
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
    let multiplier: Multiplier;
    try {
      multiplier = resolveMultiplier(name);
    } catch (error) {
      // Unknown names, bad family parameters and unusable files are the user's to fix: usage errors.
      if (isMultiplierInputError(error)) throw new UsageError(error.message);
      throw error;
    }
    const c = characterize(multiplier);
    if (args.flags.has('json')) {
      writeLine(io.stdout, JSON.stringify(c, null, 2));
      return ExitCode.ok;
    }
    const hw = c.hardware;
    const lines = [
      `${c.name}  (${c.signed ? 'signed' : 'unsigned'} 8×8, ${c.source})`,
      `  ${c.description}`,
      ...(c.citation ? [`  cite: ${c.citation}`] : []),
      ...(c.family ? [`  family: ${c.family.name} ${JSON.stringify(c.family.params)}`] : []),
      `  id: ${c.id}`,
      `  hardware: ${hw.technology === null ? 'none tabulated (the synthesize step costs generated circuits and given netlists)' : `${hw.powerMw} mW, ${hw.areaUm2} um², ${hw.delayNs} ns (${hw.technology})`}`,
      `  rank: ${c.rank} (GEMMs in the low-rank emulation)`,
      '',
      ...formatMetrics(c.metrics),
      '',
      ...errorHeatmap(multiplier),
    ];
    for (const line of lines) writeLine(io.stdout, line);
    return ExitCode.ok;
  },
};

function formatMetrics(m: ErrorMetrics): string[] {
  const n = (v: number): string => (Number.isInteger(v) ? String(v) : v.toPrecision(4));
  return [
    `  MAE ${n(m.mae)} (${n(m.maePercent)}%)   WCE ${n(m.wce)} (${n(m.wcePercent)}%)   MSE ${n(m.mse)}`,
    `  MRE ${n(m.mrePercent)}%   WCRE ${n(m.wcrePercent)}%   EP ${n(m.epPercent)}%   bias ${n(m.meanError)}   std ${n(m.errorStd)}`,
  ];
}

const SHADES = ' .:-=+*#%@';
const CELLS = 16;

/** Mean |error| over 16×16 blocks of operand values (a down, b across, in value order), shaded. */
export function errorHeatmap(multiplier: Pick<Multiplier, 'signed' | 'table'>): string[] {
  const {signed, table} = multiplier;
  const span = 256 / CELLS;
  const low = signed ? -128 : 0;
  const sums = new Float64Array(CELLS * CELLS);
  for (let a = 0; a < 256; a++) {
    const va = operandValue(signed, a);
    for (let b = 0; b < 256; b++) {
      const vb = operandValue(signed, b);
      const cell = Math.floor((va - low) / span) * CELLS + Math.floor((vb - low) / span);
      sums[cell]! += Math.abs(table[a * 256 + b]! - va * vb) / (span * span);
    }
  }
  const max = Math.max(...sums);
  const shade = (v: number): string => (max === 0 ? ' ' : (SHADES[Math.min(SHADES.length - 1, Math.ceil((v / max) * (SHADES.length - 1)))] ?? '@'));
  const rows = Array.from({length: CELLS}, (_, r) => {
    const from = low + r * span;
    const cells = Array.from({length: CELLS}, (_, col) => shade(sums[r * CELLS + col]!).repeat(2)).join('');
    return `  ${String(from).padStart(4)} |${cells}|`;
  });
  const axis = `${String(low).padEnd(CELLS)}${String(low + 255).padStart(CELLS)}`;
  return [
    `  mean |error| per ${span}×${span} block of operand values (a down, b across; " " = 0, "@" = ${max.toPrecision(4)})`,
    `       b: ${axis}`,
    ...rows,
  ];
}
