// Synthesis of a multiplier (or any module) with Yosys: generic CMOS gates for a transistor count
// (`stat -tech cmos`) and, when a Liberty file is available, standard cells for area (`abc -liberty`,
// `stat -liberty`). Results are memoised per RTL text + tool version + Liberty digest in the caller's memo.
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {figureKey, memoised, withNumbers, type FigureMemo} from './figure-memo.js';
import {runTool} from './run-tool.js';
import {INSTALL_HINT, type HwTools} from './tools.js';
import type {RtlModule} from './verilog/rtl.js';
import {HwError} from './hw-error.js';

/** Bumped when the synthesis script changes, so cached figures from an older script are not reused. */
const SCRIPT_VERSION = '1';

export interface CellMapping {
  technology: string;
  /** Sum of the Liberty cell areas; osu018 states areas in um^2. */
  areaUm2: number;
  cells: number;
  /** The mapped gate-level netlist (Verilog), input to OpenSTA. */
  netlist: string;
}

export interface SynthesisFigures {
  module: string;
  /** Tool version line, e.g. "Yosys 0.23 (git sha1 7ce5011c24b)". */
  tool: string;
  /** Yosys' estimate for the generic CMOS gate netlist (`stat -tech cmos`). */
  transistors: number;
  gateCells: number;
  /** Present when a Liberty file was given. */
  cellMapping?: CellMapping;
}

export interface SynthesisOptions {
  /** Where figures are memoised (a step's memo); omit to always run Yosys. */
  memo?: FigureMemo;
  signal?: AbortSignal;
}

export async function synthesize(rtl: RtlModule, tools: HwTools, options: SynthesisOptions = {}): Promise<SynthesisFigures> {
  const yosys = tools.yosys;
  if (yosys === undefined) throw new HwError(`cannot synthesise ${rtl.name}: Yosys is not installed; ${INSTALL_HINT}`);
  const liberty = tools.liberty;
  const key = figureKey('yosys-synthesis', [SCRIPT_VERSION, yosys.version, liberty?.digest ?? 'none', rtl.name, rtl.source]);
  return memoised(options.memo, key, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'axx-yosys-'));
    try {
      await writeFile(join(dir, 'in.v'), rtl.source);
      const script = [
        'read_verilog in.v',
        `synth -flatten -top ${rtl.name}`,
        'tee -q -o cmos.txt stat -tech cmos',
        ...(liberty === undefined
          ? []
          : [
              `dfflibmap -liberty ${liberty.path}`,
              `abc -liberty ${liberty.path}`,
              'opt_clean -purge',
              // Area is taken before buffering: the buffers exist only to make the netlist readable by OpenSTA.
              `tee -q -o liberty.txt stat -liberty ${liberty.path}`,
              ...(liberty.buffer === undefined
                ? []
                : [`insbuf -buf ${liberty.buffer.cell} ${liberty.buffer.input} ${liberty.buffer.output}`, 'opt_clean -purge']),
              'write_verilog -noattr -noexpr mapped.v',
            ]),
      ].join('; ');
      await runTool(yosys.command, ['-q', '-p', script], {cwd: dir, signal: options.signal});
      const cmos = await readFile(join(dir, 'cmos.txt'), 'utf8');
      const figures: SynthesisFigures = {
        module: rtl.name,
        tool: yosys.version,
        transistors: yosysStatistic(cmos, /Estimated number of transistors:\s+(\d+)/, rtl.name),
        gateCells: yosysStatistic(cmos, /Number of cells:\s+(\d+)/, rtl.name),
      };
      if (liberty !== undefined) {
        const stat = await readFile(join(dir, 'liberty.txt'), 'utf8');
        const cells = yosysStatistic(stat, /Number of cells:\s+(\d+)/, rtl.name);
        figures.cellMapping = {
          technology: liberty.technology,
          // Yosys prints no area line for a design without cells (e.g. a constant multiplier).
          areaUm2: cells === 0 ? 0 : yosysStatistic(stat, /Chip area for module '[^']*':\s+([\d.]+)/, rtl.name),
          cells,
          netlist: await readFile(join(dir, 'mapped.v'), 'utf8'),
        };
      }
      return figures;
    } finally {
      await rm(dir, {recursive: true, force: true});
    }
  }, (entry) => withNumbers<SynthesisFigures>(entry, ['transistors', 'gateCells']));
}

/** A number from Yosys's `stat` output; a HwError when it is missing (a Yosys whose output this axx cannot read). */
export function yosysStatistic(text: string, pattern: RegExp, moduleName: string): number {
  const match = pattern.exec(text);
  if (match?.[1] === undefined) throw new HwError(`Yosys statistics for ${moduleName} lack ${pattern.source}; the installed Yosys prints a report this axx does not read:\n${text.slice(0, 400)}`);
  return Number(match[1]);
}
