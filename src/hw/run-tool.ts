// Runs an external EDA tool (yosys, iverilog, vvp, sta) and turns a failure into a message that names
// the tool, its arguments and the tail of what it printed, so the user sees the tool's own complaint.
import {execFile} from 'node:child_process';
import {HwError} from './hw-error.js';

export interface ToolOutput {
  stdout: string;
  stderr: string;
}

export interface RunToolOptions {
  cwd?: string;
  signal?: AbortSignal;
}

const OUTPUT_LIMIT = 64 * 1024 * 1024;

export function runTool(command: string, args: readonly string[], options: RunToolOptions = {}): Promise<ToolOutput> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      {cwd: options.cwd, signal: options.signal, maxBuffer: OUTPUT_LIMIT, encoding: 'utf8'},
      (error, stdout, stderr) => {
        if (error === null) {
          resolve({stdout, stderr});
          return;
        }
        const printed = `${stdout}\n${stderr}`.trim().split('\n').slice(-15).join('\n');
        reject(new HwError(`${command} ${args.join(' ')} failed (${error.message.split('\n')[0]}):\n${printed}`));
      },
    );
  });
}

/** The first line a tool prints for its version flag, or undefined when the tool is not installed. */
export async function toolVersion(command: string, versionArgs: readonly string[]): Promise<string | undefined> {
  try {
    const {stdout, stderr} = await runTool(command, versionArgs);
    return (stdout.trim() || stderr.trim()).split('\n')[0];
  } catch {
    return undefined;
  }
}
