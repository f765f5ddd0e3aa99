// The live dashboard (src/ui/) as a run renderer: events go into a RunViewStore that the ink app
// redraws from. "q" detaches the view: the caller's `detach` control (a watcher stops following), else
// the rest of the run prints plain lines.
import React from 'react';
import {render} from 'ink';
import {Dashboard} from '../../ui/dashboard.js';
import {RunViewStore} from '../../ui/view-store.js';
import {stepKinds} from '../../steps/index.js';
import type {CliIo} from '../command.js';
import {plainRenderer} from './plain.js';
import type {Renderer, RunControls} from './renderer.js';

export function inkRenderer(io: CliIo, controls: RunControls): Renderer {
  const store = new RunViewStore();
  let fallback: Renderer | undefined;
  let detached = false;
  const onDetach = (): void => {
    detached = true;
    if (controls.detach !== undefined) controls.detach();
    else fallback = plainRenderer(io);
  };
  const interruptNotes = Object.fromEntries(stepKinds.flatMap((k) => (k.interruptNote !== undefined ? [[k.name, k.interruptNote]] : [])));
  // A new element each time, so a rerender draws the store's current view (React skips identical props).
  const dashboard = (): React.ReactElement => <Dashboard store={store} onDetach={onDetach} onInterrupt={() => controls.interrupt()} interruptNotes={interruptNotes} />;
  const app = render(dashboard(), {
    stdout: io.stdout as NodeJS.WriteStream,
    stderr: io.stderr as NodeJS.WriteStream,
    ...(io.stdin !== undefined ? {stdin: io.stdin} : {}),
    exitOnCtrlC: false,
    patchConsole: false,
  });
  return {
    sink: (event) => {
      if (fallback !== undefined) fallback.sink(event);
      else store.apply(event);
    },
    close: async () => {
      // The last frame shows the final state: drawn now (ink renders synchronously), not at the next redraw tick.
      if (!detached) app.rerender(dashboard());
      app.unmount();
      // A dashboard that crashed may never report its exit; the run's result matters more than the view.
      await Promise.race([app.waitUntilExit().catch(() => undefined), new Promise((r) => setTimeout(r, 1000).unref())]);
    },
  };
}

/** Interactive only: both ends are terminals and not in CI. */
export function canUseInk(io: CliIo): boolean {
  const isTty = (stream: unknown): boolean => (stream as {isTTY?: boolean} | undefined)?.isTTY === true;
  return isTty(io.stdout) && isTty(io.stdin) && !inContinuousIntegration(io.env) && io.env['TERM'] !== 'dumb';
}

/** The rule ink itself follows (package is-in-ci): CI or CONTINUOUS_INTEGRATION set to anything but 0/false. */
function inContinuousIntegration(env: CliIo['env']): boolean {
  const set = (key: string): boolean => env[key] !== undefined && env[key] !== '0' && env[key] !== 'false';
  return set('CI') || set('CONTINUOUS_INTEGRATION');
}
