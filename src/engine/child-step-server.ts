// The child side of the child-process executor: receives one step, runs it, reports back.
import type {FromChild, ToChild} from './child-protocol.js';
import {StepError, type Json, type StepKind} from './step-kind.js';
import {localTasks} from './tasks.js';

/** Serves steps to the parent process; `onParentGone` runs when the IPC channel closes (the caller decides how to end). */
export function serveStepInChild(kinds: readonly StepKind[], onParentGone: () => void): void {
  const send = (message: FromChild): void => {
    process.send?.(message);
  };
  const controller = new AbortController();
  let nextId = 0;
  const pending = new Map<number, (value: unknown) => void>();
  const request = <T>(make: (id: number) => FromChild): Promise<T> =>
    new Promise<T>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve as (value: unknown) => void);
      send(make(id));
    });
  process.on('message', (raw) => {
    const message = raw as ToChild;
    switch (message.type) {
      case 'abort':
        controller.abort(new Error('interrupted'));
        return;
      case 'checkpoint-loaded':
        pending.get(message.id)?.(message.value);
        pending.delete(message.id);
        return;
      case 'checkpoint-saved':
      case 'checkpoint-discarded':
      case 'memo-stored':
        pending.get(message.id)?.(undefined);
        pending.delete(message.id);
        return;
      case 'memo-got':
        pending.get(message.id)?.(message.value);
        pending.delete(message.id);
        return;
      case 'run': {
        const kind = kinds.find((k) => k.name === message.kind);
        if (kind === undefined) {
          send({type: 'error', stepError: false, message: `step kind "${message.kind}" is not registered in the child process`});
          return;
        }
        kind
          .run({
            params: message.params,
            scratchDir: message.scratchDir,
            resources: message.resources,
            signal: controller.signal,
            hostEnvironment: message.hostEnvironment,
            progress: (done, total, unit) => send({type: 'progress', done, ...(total !== undefined ? {total} : {}), ...(unit !== undefined ? {unit} : {})}),
            log: (text, stream = 'stdout') => send({type: 'log', text, stream}),
            metric: (name, value, step) => send({type: 'metric', name, value, ...(step !== undefined ? {step} : {})}),
            checkpoint: {
              save: (state: Json, files: Record<string, Uint8Array> = {}) => request<void>((id) => ({type: 'checkpoint-save', id, state, files})),
              load: () => request<{state: Json; files: Record<string, Uint8Array>} | undefined>((id) => ({type: 'checkpoint-load', id})),
              discard: () => request<void>((id) => ({type: 'checkpoint-discard', id})),
            },
            memo: {
              get: (key: string) => request<Json | undefined>((id) => ({type: 'memo-get', id, key})),
              set: (key: string, value: Json) => request<void>((id) => ({type: 'memo-set', id, key, value})),
            },
            tasks: localTasks(kind, message.resources, message.scratchDir),
          })
          .then(
            (outputs) => send({type: 'done', outputs}),
            (error: unknown) => {
              if (error instanceof StepError) send({type: 'error', stepError: true, message: error.message, ...(error.hint !== undefined ? {hint: error.hint} : {}), ...(error.param !== undefined ? {param: error.param} : {}), ...(error.command !== undefined ? {command: error.command} : {})});
              else send({type: 'error', stepError: false, message: error instanceof Error ? error.message : String(error), ...(error instanceof Error && error.stack !== undefined ? {stack: error.stack} : {})});
            },
          );
        return;
      }
    }
  });
  process.on('disconnect', onParentGone);
}
