// Which synthesis/simulation tools this host offers. Probed once and passed around explicitly, so
// library code never guesses and tests can state what they need.
import {existsSync} from 'node:fs';
import {hashFile} from '../util/hash-file.js';
import {toolVersion} from './run-tool.js';

export interface Tool {
  command: string;
  /** The tool's own version line; part of every synthesis cache key. */
  version: string;
}

export interface Liberty {
  path: string;
  /** sha256 of the file: figures computed with it are memoised under this, not under the path. */
  digest: string;
  /** Short technology name reported with the figures, e.g. "osu018 (0.18 um)". */
  technology: string;
  /**
   * A buffer cell (name, input pin, output pin). Yosys writes a port driven straight by another port or
   * a constant as `assign {..} = {..}`, which OpenSTA cannot read; buffers make such netlists readable.
   */
  buffer?: {cell: string; input: string; output: string};
}

export interface HwTools {
  yosys?: Tool;
  iverilog?: Tool;
  vvp?: Tool;
  /** OpenSTA, Debian package `opensta`, command `sta`. */
  sta?: Tool;
  liberty?: Liberty;
}

/** The Liberty file of Debian's qflow-tech-osu018 (OSU 0.18 um standard cells). */
export const OSU018_LIBERTY = '/usr/share/qflow/tech/osu018/osu018_stdcells.lib';

export const INSTALL_HINT =
  'install the open-source EDA tools (Debian/Ubuntu: apt-get install yosys iverilog opensta qflow-tech-osu018)';

const probes = new Map<string, Promise<HwTools>>();

/** Probes once per process and Liberty path (installing tools mid-run is not supported). */
export function detectHwTools(options: {libertyPath?: string} = {}): Promise<HwTools> {
  const libertyPath = options.libertyPath ?? OSU018_LIBERTY;
  let pending = probes.get(libertyPath);
  if (pending === undefined) {
    pending = probeHwTools(libertyPath);
    probes.set(libertyPath, pending);
  }
  return pending;
}

async function probeHwTools(libertyPath: string): Promise<HwTools> {
  const [yosys, iverilog, vvp, sta] = await Promise.all([
    probe('yosys', ['-V']),
    probe('iverilog', ['-V']),
    probe('vvp', ['-V']),
    probe('sta', ['-version']),
  ]);
  const digest = existsSync(libertyPath) ? await hashFile(libertyPath) : undefined;
  const liberty =
    digest === undefined
      ? undefined
      : libertyPath === OSU018_LIBERTY
        ? {path: libertyPath, digest, technology: 'osu018 (0.18 um)', buffer: {cell: 'BUFX2', input: 'A', output: 'Y'}}
        : {path: libertyPath, digest, technology: libertyPath};
  return {yosys, iverilog, vvp, sta, liberty};
}

async function probe(command: string, versionArgs: string[]): Promise<Tool | undefined> {
  const version = await toolVersion(command, versionArgs);
  return version === undefined ? undefined : {command, version};
}
