// The shape of one `axx <command>`: each lives in its own file under src/cli/commands/ and is listed
// once, with its one-line summary, in src/cli/commands/index.ts. Commands get their streams, environment and working directory
// through `CliIo` (never the globals), so tests run them in-process with captured output.
import type {Writable} from 'node:stream';

export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  /** For interactive renderers (keyboard); absent in tests and pipes. */
  stdin?: NodeJS.ReadStream;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** Aborted on SIGINT/SIGTERM; long commands (run) pass it on to running steps. */
  signal: AbortSignal;
  /** How the user invoked axx ("axx", "npx axx" …), for printing commands to copy. */
  argv0: string;
  /** How to start this CLI again in another process (node binary + node flags and entry script); absent in tests. */
  relaunch?: {execPath: string; args: string[]};
}

export interface Command {
  name: string;
  /** Full usage text for `axx <name> --help`. */
  usage: string;
  /** Returns the process exit code (see ExitCode). */
  run(args: string[], io: CliIo): Promise<number>;
}

/** Documented exit codes (README "CLI"). */
export const ExitCode = {
  ok: 0,
  stepFailed: 1,
  usage: 2,
  internal: 70,
  interrupted: 130,
} as const;

/** Thrown by argument parsing and option checks; main prints it with the command's usage and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function writeLine(stream: Writable, text = ''): void {
  stream.write(`${text}\n`);
}
