// Runs a step in a forked Node process, so a crash inside a native library (onnxruntime, a bad
// addon) fails that step instead of killing the whole run.
import {fork} from 'node:child_process';
import type {FromChild, ToChild} from './child-protocol.js';
import {relayUpdate, type Executor, type StepExecution} from './executor.js';
import {StepError, type OutputValue} from './step-kind.js';

/** How long a child gets to checkpoint and exit after an abort before it is killed. */
const ABORT_GRACE_MS = 5_000;

export interface ChildProcessExecutorOptions {
  /** Module the child runs; it calls serveStepInChild with the kind registry (src/cli/step-child.ts). */
  entry: string;
  /** e.g. ['--import', <tsx loader URL>] so the child can load TypeScript. */
  execArgv: string[];
}

export function childProcessExecutor(options: ChildProcessExecutorOptions): Executor {
  return {
    name: 'child-process',
    execute: (e: StepExecution) =>
      new Promise<Record<string, OutputValue>>((resolve, reject) => {
        // Own process group, so an abort or a timeout also stops what the step started (a child of the child).
        const child = fork(options.entry, [], {execArgv: options.execArgv, serialization: 'advanced', stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true});
        let settled = false;
        const settle = (fn: () => void): void => {
          if (settled) return;
          settled = true;
          e.signal.removeEventListener('abort', onAbort);
          fn();
        };
        const send = (message: ToChild): void => {
          if (child.connected) child.send(message);
        };
        const signalGroup = (signal: NodeJS.Signals): void => {
          if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
          try {
            process.kill(-child.pid, signal);
          } catch {
            // Already gone.
          }
        };
        // First the step's own abort (it may checkpoint), then SIGTERM, then SIGKILL of the whole group.
        const onAbort = (): void => {
          send({type: 'abort'});
          setTimeout(() => signalGroup('SIGTERM'), ABORT_GRACE_MS).unref();
          setTimeout(() => signalGroup('SIGKILL'), 2 * ABORT_GRACE_MS).unref();
        };
        e.signal.addEventListener('abort', onAbort, {once: true});
        // Anything a native library prints goes to the step log, not the terminal.
        child.stdout?.on('data', (chunk: Buffer) => e.log(chunk.toString('utf8').trimEnd(), 'stdout'));
        child.stderr?.on('data', (chunk: Buffer) => e.log(chunk.toString('utf8').trimEnd(), 'stderr'));
        child.on('message', (raw) => {
          const message = raw as FromChild;
          switch (message.type) {
            case 'progress':
            case 'log':
            case 'metric':
              relayUpdate(e, message);
              return;
            case 'checkpoint-save':
              void e.checkpoint.save(message.state, message.files).then(() => send({type: 'checkpoint-saved', id: message.id}));
              return;
            case 'checkpoint-load':
              void e.checkpoint.load().then((value) => send({type: 'checkpoint-loaded', id: message.id, value}));
              return;
            case 'checkpoint-discard':
              void e.checkpoint.discard().then(() => send({type: 'checkpoint-discarded', id: message.id}));
              return;
            case 'memo-get':
              void e.memo.get(message.key).then((value) => send({type: 'memo-got', id: message.id, value}));
              return;
            case 'memo-set':
              void e.memo.set(message.key, message.value).then(() => send({type: 'memo-stored', id: message.id}));
              return;
            case 'done':
              settle(() => resolve(message.outputs));
              child.disconnect();
              return;
            case 'error': {
              const error = message.stepError ? new StepError(message.message, message.hint, message.param, message.command) : new Error(message.message);
              if (message.stack !== undefined && !message.stepError) error.stack = message.stack;
              settle(() => reject(error));
              child.disconnect();
              return;
            }
          }
        });
        child.on('error', (error) => settle(() => reject(error)));
        child.on('exit', (code, signal) => {
          settle(() => reject(new StepError(`step process exited unexpectedly (${signal !== null ? `signal ${signal}` : `code ${code}`})`, 'a native library may have crashed; the step log has its output')));
        });
        send({type: 'run', kind: e.kind.name, params: e.params, scratchDir: e.scratchDir, resources: e.resources, hostEnvironment: e.hostEnvironment});
      }),
  };
}
