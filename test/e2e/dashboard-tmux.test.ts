// The dashboard end to end on a real terminal: tmux runs `axx run` (which starts the run in the
// background and views it), the test reads the screen with capture-pane, detaches with q, checks the
// run finishes on its own and `axx watch` shows it, then interrupts a second run with Ctrl-C.
import {execFileSync, spawnSync} from 'node:child_process';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {ensureDist} from '../support/build-dist.js';
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

const screen = (target = session): string => tmux('capture-pane', '-p', '-t', target);
/** Types a command line into the pane's shell (CI unset: the dashboard is only drawn outside CI). */
const type = (line: string, target = session): void => void tmux('send-keys', '-t', target, `clear; env -u CI AXX_CACHE= AXX_ARGV0=axx node ${bin} ${line}`, 'Enter');

async function waitForScreen(test: (text: string) => boolean, what: string, timeoutMs = 15_000, target = session): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = screen(target);
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
  beforeAll(ensureDist);

  it.skipIf(!hasTmux)('shows live rows, detaches on q while the run finishes, watch reattaches, Ctrl-C interrupts with the resume command', async () => {
    const dir = tempProject({'p.yaml': pipeline});
    tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '40', '-c', dir, 'bash --norc --noprofile');

    type('run p.yaml');
    // The first frame waits for node, the background run and the viewer to start (slow on a loaded machine).
    const first = await waitForScreen((t) => /▶ a\s+exec/.test(t) && /tick-a-([2-9]|1[0-2])/.test(t), 'step a running with its log', 60_000);
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

  it.skipIf(!hasTmux)('at 80×24 every frame fits: the header stays on top while rows are selected, nothing scrolls off', async () => {
    // 16 steps, more than the list has room for, each logging long lines, two at a time; the first fails
    // with a long stderr, which the error panel shows for the rest of the run.
    const steps = Array.from({length: 16}, (_, i) => `  step-number-${i}:\n    uses: exec\n    with:\n      run: "for n in 1 2 3; do echo step-${i}-line-$n-${'x'.repeat(100)}; sleep 0.3; done"`);
    steps[0] = `  step-number-0:\n    uses: exec\n    with:\n      run: "for n in 1 2 3 4 5 6; do echo error-detail-$n-${'y'.repeat(100)} >&2; done; exit 3"`;
    const dir = tempProject({'many.yaml': `name: many-steps-at-eighty-columns\nsteps:\n${steps.join('\n')}\n`});
    const small = 'small';
    tmux('new-session', '-d', '-s', small, '-x', '80', '-y', '24', '-c', dir, 'bash --norc --noprofile');
    type('run many.yaml -j 2; echo EXIT=$?', small);
    await waitForScreen((t) => t.includes('axx ▸ many-steps'), 'the dashboard', 60_000, small);
    const frames: {text: string; history: number}[] = [];
    let pressed = 0;
    while (!screen(small).includes('EXIT=')) {
      // Move the selection now and then, as a user would (the header used to scroll away once a row was selected).
      if (frames.length % 5 === 4 && pressed < 6) {
        tmux('send-keys', '-t', small, pressed < 3 ? 'Down' : 'Up');
        pressed++;
      }
      // History first: the viewer may print its outcome (scrolling the pane) between the two tmux calls, and a
      // history read after the screen would blame that scroll on the dashboard frame captured before it.
      const history = Number(tmux('display-message', '-p', '-t', small, '#{history_size}').trim());
      frames.push({text: screen(small), history});
      await new Promise((r) => setTimeout(r, 100));
    }
    // Frames of the live dashboard: not those after the viewer printed the outcome below its last frame.
    const dashboardFrames = frames.filter((f) => f.text.includes('steps ') && !/^run \S+ failed$/m.test(f.text));
    expect(dashboardFrames.length).toBeGreaterThan(5);
    for (const frame of dashboardFrames) {
      const lines = frame.text.split('\n');
      // The screen was cleared before the command ran: the header holds the top rows in every frame.
      expect(lines[0], frame.text).toMatch(/^axx ▸ many-steps-at-eighty-columns/);
      expect(lines[1], frame.text).toMatch(/^steps \d+\/16 done/);
      expect(frame.history, `a frame scrolled lines off the top:\n${frame.text}`).toBe(0);
      for (const line of lines) expect([...line].length).toBeLessThanOrEqual(80);
    }
    expect(screen(small)).toContain('EXIT=1');
  }, 180_000);
});
