// Power and delay of a mapped netlist with OpenSTA: a virtual clock at the accelerator's frequency, and
// per-input switching activity (toggles per clock, probability of 1). OpenSTA propagates the activity
// through the gates probabilistically (no simulation), which is what "data-aware" power means here:
// the operand bits' statistics come from the model's real operand histograms.
import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {figureKey, memoised, withNumbers, type FigureMemo} from './figure-memo.js';
import {runTool} from './run-tool.js';
import {INSTALL_HINT, type HwTools} from './tools.js';
import {HwError} from './hw-error.js';

const SCRIPT_VERSION = '1';

export interface BitActivity {
  /** Expected transitions per clock cycle (0..1 for a registered input). */
  toggleRate: number;
  /** Probability the bit is 1. */
  duty: number;
}

export interface PowerFigures {
  tool: string;
  technology: string;
  clockMHz: number;
  /** All in mW at `clockMHz`. */
  internalMw: number;
  switchingMw: number;
  leakageMw: number;
  totalMw: number;
  /** Longest input-to-output path (ns), unloaded outputs. */
  criticalPathNs: number;
}

export interface PowerOptions {
  clockMHz: number;
  /** Activity per input bit, keyed by port bit ("a[3]"); bits not listed get `defaultActivity`. */
  inputActivity?: Record<string, BitActivity>;
  /** Default: toggle rate 0.5, duty 0.5 (uniform random operands clocked in every cycle would give 0.5/0.5). */
  defaultActivity?: BitActivity;
  /** For sequential designs: the clock input port; omitted = combinational, timed against a virtual clock. */
  clockPort?: string;
  /** Where figures are memoised (a step's memo); omit to always run OpenSTA. */
  memo?: FigureMemo;
  signal?: AbortSignal;
}

export async function analysePower(
  netlist: string,
  moduleName: string,
  tools: HwTools,
  options: PowerOptions,
): Promise<PowerFigures> {
  const sta = tools.sta;
  const liberty = tools.liberty;
  if (sta === undefined || liberty === undefined) {
    throw new HwError(`cannot estimate the power of ${moduleName}: OpenSTA (sta) and a Liberty file are needed; ${INSTALL_HINT}`);
  }
  const fallback = options.defaultActivity ?? {toggleRate: 0.5, duty: 0.5};
  const activityLines = Object.entries(options.inputActivity ?? {})
    .sort(([x], [y]) => x.localeCompare(y))
    .map(([bit, act]) => `set_power_activity -input_ports [get_ports {${bit}}] -activity ${num(act.toggleRate)} -duty ${num(act.duty)}`);
  const periodNs = 1000 / options.clockMHz;
  const script = [
    `read_liberty ${liberty.path}`,
    'read_verilog netlist.v',
    `link_design ${moduleName}`,
    `create_clock -name vclk -period ${num(periodNs)}${options.clockPort === undefined ? '' : ` [get_ports ${options.clockPort}]`}`,
    options.clockPort === undefined
      ? 'set_input_delay 0 -clock vclk [all_inputs]'
      : `set_input_delay 0 -clock vclk [delete_from_list [all_inputs] [get_ports ${options.clockPort}]]`,
    'set_output_delay 0 -clock vclk [all_outputs]',
    `set_power_activity -input -activity ${num(fallback.toggleRate)} -duty ${num(fallback.duty)}`,
    ...activityLines,
    'report_checks -format end -digits 6',
    'report_power -digits 9',
    '',
  ].join('\n');
  const key = figureKey('opensta-power', [SCRIPT_VERSION, sta.version, liberty.digest, netlist, script]);
  return memoised(options.memo, key, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'axx-sta-'));
    try {
      await writeFile(join(dir, 'netlist.v'), netlist);
      await writeFile(join(dir, 'power.tcl'), script);
      const {stdout, stderr} = await runTool(sta.command, ['-no_splash', '-exit', 'power.tcl'], {cwd: dir, signal: options.signal});
      return parsePowerReport(`${stdout}\n${stderr}`, moduleName, sta.version, liberty.technology, options.clockMHz);
    } finally {
      await rm(dir, {recursive: true, force: true});
    }
  }, (entry) => withNumbers<PowerFigures>(entry, ['totalMw', 'internalMw', 'switchingMw', 'leakageMw', 'criticalPathNs']));
}

/** Power and timing from OpenSTA's report; a HwError when the report does not hold them (a failed or unfamiliar OpenSTA). */
export function parsePowerReport(text: string, moduleName: string, tool: string, technology: string, clockMHz: number): PowerFigures {
  // "Total   1.36e-03 6.36e-04 2.51e-08 2.00e-03 100.0%" (watts)
  const total = /^Total\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)/m.exec(text);
  // "y[14] (output)   10.000000   2.824200   7.175800 (MET)" or "acc[3]$_DFF_P_/D (DFFPOSX1) ..."
  const check = /\)\s+([\d.]+)\s+([\d.]+)\s+(-?[\d.]+)\s+\((?:MET|VIOLATED)\)/.exec(text);
  if (total === null || check === null) {
    throw new HwError(`could not read OpenSTA's power/timing report for ${moduleName} (an OpenSTA error, or a version whose report this axx does not read):\n${text.slice(0, 600)}`);
  }
  const mw = (index: number): number => Number(total[index]) * 1000;
  return {
    tool: `OpenSTA ${tool}`,
    technology,
    clockMHz,
    internalMw: mw(1),
    switchingMw: mw(2),
    leakageMw: mw(3),
    totalMw: mw(4),
    criticalPathNs: Number(check[2]),
  };
}

function num(value: number): string {
  if (!Number.isFinite(value)) throw new HwError(`activity/clock value must be finite, got ${value}`);
  return String(Number(value.toPrecision(9)));
}
