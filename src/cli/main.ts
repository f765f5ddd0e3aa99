// axx entry point: the only place that touches process.argv/env/exitCode and installs signal handlers.
import {asStoreError} from '../engine/store/errors.js';
import {commands} from './commands/index.js';
import {ExitCode, UsageError, writeLine, type CliIo, type Command} from './command.js';

const HELP_FLAGS = new Set(['-h', '--help', 'help']);

function printHelp(io: CliIo): void {
  const width = Math.max(...commands.map((c) => c.name.length));
  writeLine(io.stdout, 'axx — approximate-multiplier experiments on neural networks as cached pipelines\n');
  writeLine(io.stdout, 'Usage: axx <command> [options]\n\nCommands:');
  for (const command of commands) writeLine(io.stdout, `  ${command.name.padEnd(width)}  ${command.summary}`);
  writeLine(io.stdout, '\nRun "axx <command> --help" for its options. Exit codes: 0 ok, 1 a step failed, 2 usage/config error, 70 internal error, 130 interrupted.');
}

/** Dispatches argv to a command; returns the exit code. Exported for in-process tests. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || HELP_FLAGS.has(name)) {
    printHelp(io);
    return name === undefined ? ExitCode.usage : ExitCode.ok;
  }
  if (name === '--version' || name === '-V') {
    writeLine(io.stdout, '0.1.0');
    return ExitCode.ok;
  }
  const command: Command | undefined = commands.find((c) => c.name === name);
  if (command === undefined) {
    writeLine(io.stderr, `axx: unknown command "${name}"; run "axx --help" for the list`);
    return ExitCode.usage;
  }
  if (rest.some((a) => a === '-h' || a === '--help')) {
    writeLine(io.stdout, command.usage);
    return ExitCode.ok;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      writeLine(io.stderr, `axx ${command.name}: ${error.message}\n\n${command.usage}`);
      return ExitCode.usage;
    }
    const storeError = asStoreError(error, 'the cache directory');
    if (storeError !== undefined) {
      writeLine(io.stderr, `axx ${command.name}: ${storeError.message}\n  hint: ${storeError.hint}`);
      return storeError.kind === 'disk-full' ? ExitCode.stepFailed : ExitCode.usage;
    }
    writeLine(io.stderr, `axx ${command.name}: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return ExitCode.internal;
  }
}

async function main(): Promise<void> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupts++;
    // A second Ctrl-C means "now": the run already marked itself interrupted on the first.
    if (interrupts > 1) process.exit(ExitCode.interrupted);
    controller.abort(new Error(`received ${signal}`));
  };
  // `axx runs | head`: a closed pipe ends the output quietly instead of crashing.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const io: CliIo = {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
    signal: controller.signal,
    argv0: process.env['AXX_ARGV0'] ?? 'axx',
    // The entry script (bin/axx.js or src/cli/main.ts) and node flags (tsx's loader) of this very process.
    relaunch: {execPath: process.execPath, args: [...process.execArgv, ...process.argv.slice(1, 2)]},
  };
  process.exitCode = await runCli(process.argv.slice(2), io);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}

// Only when executed as the program (bin/axx.js or tsx src/cli/main.ts), not when a test imports runCli.
const entry = process.argv[1] ?? '';
if (/(?:bin[\\/]axx(?:\.js)?|src[\\/]cli[\\/]main\.ts)$/.test(entry)) await main();
