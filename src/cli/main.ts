// axx entry point: the only place that touches process.argv/env/exitCode and installs signal handlers.
import {readFileSync} from 'node:fs';
import {asStoreError} from '../engine/store/errors.js';
import {commands} from './commands/index.js';
import {ExitCode, UsageError, writeLine, type CliIo} from './command.js';
import {CUDA_PROCESS_ENVIRONMENT} from '../onnx/cuda-environment.js';
import {axxCommand, invokedAs} from './invocation.js';

/** Name and version of this package (src/ and dist/ both sit two levels below package.json). */
const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {name: string; version: string};

const HELP_FLAGS = new Set(['-h', '--help', 'help']);

function printHelp(io: CliIo): void {
  const width = Math.max(...commands.map((c) => c.name.length));
  writeLine(io.stdout, 'axx — approximate-multiplier experiments on neural networks as cached pipelines\n');
  writeLine(io.stdout, `Usage: ${io.argv0} <command> [options]\n\nCommands:`);
  for (const command of commands) writeLine(io.stdout, `  ${command.name.padEnd(width)}  ${command.summary}`);
  writeLine(io.stdout, `\nRun "${io.argv0} <command> --help" for its options. Exit codes: 0 ok, 1 a step failed, 2 usage/config error, 70 internal error, 130 interrupted.`);
}

/** Dispatches argv to a command; returns the exit code. Exported for in-process tests. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || HELP_FLAGS.has(name)) {
    printHelp(io);
    return name === undefined ? ExitCode.usage : ExitCode.ok;
  }
  if (name === '--version' || name === '-V') {
    writeLine(io.stdout, manifest.version);
    return ExitCode.ok;
  }
  const entry = commands.find((c) => c.name === name);
  if (entry === undefined) {
    writeLine(io.stderr, `axx: unknown command "${name}"; run "${io.argv0} --help" for the list`);
    return ExitCode.usage;
  }
  const command = await entry.load();
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
      writeLine(io.stderr, `axx ${command.name}: ${storeError.message}\n  hint: ${storeError.hint((args) => axxCommand(io, args))}`);
      return storeError.kind === 'disk-full' ? ExitCode.stepFailed : ExitCode.usage;
    }
    writeLine(io.stderr, `axx ${command.name}: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return ExitCode.internal;
  }
}

/** Runs the CLI as this process: argv, environment, signals and exit code (bin/axx.js calls it). */
export async function main(): Promise<void> {
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
  // Before any CUDA library loads (and inherited by child-step processes): no TF32 in fp32 products.
  Object.assign(process.env, CUDA_PROCESS_ENVIRONMENT);
  const io: CliIo = {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
    signal: controller.signal,
    argv0: invokedAs({env: process.env, script: process.argv[1] ?? 'axx', cwd: process.cwd(), packageName: manifest.name}),
    // The entry script (bin/axx.js or src/cli/main.ts) and node flags (tsx's loader) of this very process.
    relaunch: {execPath: process.execPath, args: [...process.execArgv, ...process.argv.slice(1, 2)]},
  };
  process.exitCode = await runCli(process.argv.slice(2), io);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}

// Run directly (`npm run axx`: tsx src/cli/main.ts); bin/axx.js imports it and calls main().
if (/cli[\\/]main\.[jt]s$/.test(process.argv[1] ?? '')) await main();
