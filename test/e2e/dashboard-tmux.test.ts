// The dashboard end to end on a real terminal: tmux runs `axx run` (which starts the run in the
// background and views it), the test reads the screen with capture-pane, detaches with q, checks the
// run finishes on its own and `axx watch` shows it, then interrupts a second run with Ctrl-C.
import {execFileSync, spawnSync} from 'node:child_process';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {Store} from '../../src/engine/store/store.js';
import {removeProjects, tempProject} from './engine-helpers.js';

const hasTmux = spawnSync('tmux', ['-V']).status === 0;
if (!hasTmux) console.warn('dashboard-tmux: skipped, tmux is not installed (apt-get install tmux)');

const bin = join(import.meta.dirname, '..', '..', 'bin', 'axx.js');
/** A private tmux server, so the test never touches the user's sessions. */
const socket = `axx-e2e-${process.pid}`;
const session = 'dash';

const pipeline = `
name: slow
steps:
  a:
    uses: exec
    with:
      run: "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo tick-a-$i; sleep 0.4; done; echo a > a.txt"
      outputs: {a: {path: a.txt}}
  b:
    uses: exec
    with:
      run: "for i in 1 2 3; do echo tick-b-$i; sleep 0.4; done; cat $AXX_IN_0 > b.txt"
      inputs: ["\${{ steps.a.outputs.a }}"]
      outputs: {b: {path: b.txt}}
`;

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', socket, ...args], {encoding: 'utf8'});
}

const screen = (): string => tmux('capture-pane', '-p', '-t', session);
/** Types a command line into the pane's shell (CI unset: the dashboard is only drawn outside CI). */
const type = (line: string): void => void tmux('send-keys', '-t', session, `clear; env -u CI AXX_CACHE= AXX_ARGV0=axx node ${bin} ${line}`, 'Enter');

async function waitForScreen(test: (text: string) => boolean, what: string, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = screen();
    if (test(text)) return text;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the screen shows:\n${text}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

afterAll(async () => {
  if (hasTmux) spawnSync('tmux', ['-L', socket, 'kill-server']);
  await removeProjects();
});

describe('dashboard in a terminal (tmux)', () => {
  it.skipIf(!hasTmux)('shows live rows, detaches on q while the run finishes, watch reattaches, Ctrl-C interrupts with the resume command', async () => {
    const dir = tempProject({'p.yaml': pipeline});
    tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '40', '-c', dir, 'bash --norc --noprofile');

    type('run p.yaml');
    const first = await waitForScreen((t) => /▶ a\s+exec/.test(t) && /tick-a-([2-9]|1[0-2])/.test(t), 'step a running with its log');
    expect(first).toMatch(/steps 0\/2 done .* 1 running/);
    expect(first).toContain('q detach');
    // The screen keeps updating from the event log: later log lines arrive.
    await waitForScreen((t) => /tick-a-([4-9]|1[0-2])/.test(t), 'later log lines of a');

    tmux('send-keys', '-t', session, 'q');
    const detached = await waitForScreen((t) => t.includes('detached; run'), 'the detach message');
    const runId = /detached; run (\S+) continues/.exec(detached)?.[1];
    expect(runId).toBeDefined();

    // The run goes on without a viewer and passes.
    {
      using store = Store.open(join(dir, 'cache'));
      const deadline = Date.now() + 15_000;
      while (store.runs.get(runId!)?.status === 'running' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(store.runs.get(runId!)?.status).toBe('passed');
      expect(store.runs.steps(runId!).map((s) => s.state)).toEqual(['ran', 'ran']);
    }

    // The marker shows watch has exited and the shell reads the keyboard again (watch holds it in raw mode).
    type(`watch ${runId}; echo WATCH-EXIT=$?`);
    const watched = await waitForScreen((t) => t.includes(`run ${runId} passed`) && t.includes('WATCH-EXIT=0'), 'watch printing the outcome and exiting');
    expect(watched).toMatch(/steps 2\/2 done · 2 ran/);

    // A second run (a forced): Ctrl-C in the viewer reaches the background run as SIGINT.
    type('run p.yaml --force a; echo EXIT=$?');
    // The log panel keeps the last few lines only, so any tick of a counts.
    await waitForScreen((t) => /▶ a\s+exec/.test(t) && /tick-a-\d/.test(t), 'the forced a running');
    tmux('send-keys', '-t', session, 'C-c');
    const interrupted = await waitForScreen((t) => t.includes('EXIT='), 'the viewer to exit after Ctrl-C');
    expect(interrupted).toMatch(/run \S+ interrupted\s+resume with:\s+axx run p\.yaml\s/);
    expect(interrupted).not.toContain('--background');
    expect(interrupted).toContain('EXIT=130');
  }, 60_000);
});
