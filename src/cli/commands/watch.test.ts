import {spawn} from 'node:child_process';
import {EventEmitter} from 'node:events';
import {join} from 'node:path';
import {PassThrough} from 'node:stream';
import {afterAll, describe, expect, it} from 'vitest';
import {captureIo, exited, removeProjects, tempProject} from '../../../test/e2e/engine-helpers.js';
import type {AxxEvent, StepRef} from '../../engine/events.js';
import {Store} from '../../engine/store/store.js';
import type {CliIo} from '../command.js';
import {runCli} from '../main.js';
import {followRun, interruptRun} from './watch.js';

afterAll(removeProjects);

const a: StepRef = {id: 'a', instance: 'a', kind: 'exec'};
const b: StepRef = {id: 'b', instance: 'b', kind: 'exec'};

function project(): {dir: string; store: Store} {
  const dir = tempProject({});
  return {dir, store: Store.open(join(dir, 'cache'))};
}

/** A run as the engine records it: row, then events through RunLog.record. */
function startRun(store: Store, id: string, at = 1_000): (event: AxxEvent) => void {
  store.runs.start({id, pipeline: 'p.yaml', name: 'demo', command: 'axx run p.yaml', params: {}, at});
  const record = (event: AxxEvent): void => store.runs.record(id, event);
  record({type: 'run-start', runId: id, pipeline: 'demo', steps: [a, b], at});
  return record;
}

function finish(record: (event: AxxEvent) => void, store: Store, id: string, reason: 'passed' | 'interrupted', at: number): void {
  if (reason === 'interrupted') record({type: 'failure', failure: {reason: 'interrupted', resumeCommand: 'axx run p.yaml'}, at});
  store.runs.end(id, reason, at);
  record({type: 'run-end', runId: id, reason, at});
}

/** A terminal-like stream of 100×30 that keeps everything ink wrote. */
function fakeTerminal(): PassThrough & {columns: number; rows: number; isTTY: boolean; text: () => string} {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  return Object.assign(stream, {columns: 100, rows: 30, isTTY: true, text: () => text});
}

/** A keyboard ink reads in raw mode; `type` delivers keys as ink-testing-library's Stdin does. */
function fakeKeyboard(): NodeJS.ReadStream & {type: (keys: string) => void} {
  const noop = (): void => undefined;
  let pending: string | null = null;
  const keyboard = Object.assign(new EventEmitter(), {isTTY: true, setEncoding: noop, setRawMode: noop, resume: noop, pause: noop, ref: noop, unref: noop});
  return Object.assign(keyboard, {
    read: () => {
      const keys = pending;
      pending = null;
      return keys;
    },
    type: (keys: string) => {
      pending = keys;
      keyboard.emit('readable');
    },
  }) as unknown as NodeJS.ReadStream & {type: (keys: string) => void};
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('axx watch', () => {
  it('replays a finished run as plain lines, progress included, and exits with its outcome', async () => {
    const {dir, store} = project();
    const record = startRun(store, 'r-done');
    record({type: 'step-start', step: a, attempt: 1, at: 1_000});
    for (let done = 1; done <= 10; done++) record({type: 'step-progress', step: a, done, total: 10, unit: 'img', at: 1_000 + done * 600});
    record({type: 'step-log', step: a, stream: 'stdout', text: 'hello from a', at: 7_100});
    record({type: 'step-end', step: a, outcome: 'ran', at: 7_200});
    record({type: 'step-end', step: b, outcome: 'cached', at: 7_300});
    finish(record, store, 'r-done', 'passed', 7_400);
    store.close();

    const io = captureIo(dir);
    expect(await runCli(['watch'], io)).toBe(0);
    const out = io.stdoutText();
    expect(out).toContain('run r-done: demo, 2 steps');
    expect(out).toContain('… a 5/10 img 50%');
    expect(out).toContain('  a | hello from a');
    expect(out).toContain('✓ a ran (6.20s)');
    expect(out).toContain('run r-done passed in 6.40s: 1 ran, 1 cached');

    const json = captureIo(dir);
    expect(await runCli(['watch', 'r-d', '--json'], json)).toBe(0);
    const types = json.stdoutText().trim().split('\n').map((l) => (JSON.parse(l) as AxxEvent).type);
    expect(types[0]).toBe('run-start');
    expect(types.filter((t) => t === 'step-progress').length).toBeGreaterThanOrEqual(5);
    expect(types.at(-1)).toBe('run-end');
  });

  it('follows a live run until it ends; interrupted runs print the resume command and exit 130', async () => {
    const {dir, store} = project();
    const record = startRun(store, 'r-live', Date.now());
    record({type: 'step-start', step: a, attempt: 1, at: Date.now()});
    const io = captureIo(dir);
    const watching = runCli(['watch', 'r-live'], io);
    await sleep(400);
    expect(io.stdoutText()).toContain('▶ a');
    expect(io.stdoutText()).not.toContain('run r-live interrupted');
    record({type: 'step-end', step: a, outcome: 'interrupted', at: Date.now()});
    finish(record, store, 'r-live', 'interrupted', Date.now());
    expect(await watching).toBe(130);
    expect(io.stdoutText()).toContain('! a interrupted');
    expect(io.stderrText()).toContain('interrupted; resume with:\n  axx run p.yaml');
    store.close();
  });

  it('ends a run whose process died without recording run-end', async () => {
    const {dir, store} = project();
    const record = startRun(store, 'r-dead', Date.now());
    record({type: 'step-start', step: a, attempt: 1, at: Date.now()});
    store.db.prepare('UPDATE runs SET pid = 4194999').run();
    const io = captureIo(dir);
    expect(await runCli(['watch'], io)).toBe(130);
    expect(io.stdoutText()).toContain('run r-dead interrupted');
    store.close();
  });

  it('explains a missing run', async () => {
    const {dir} = project();
    const io = captureIo(dir);
    expect(await runCli(['watch'], io)).toBe(2);
    expect(io.stderrText()).toContain(`no runs in ${join(dir, 'cache')} yet; start one with axx run <pipeline.yaml>`);
    expect(await runCli(['watch', 'nope'], io)).toBe(2);
    expect(io.stderrText()).toContain(`no run id starts with "nope" in ${join(dir, 'cache')}; list them with axx runs\n`);
    // A cache the pasted command would not find by itself is named in it.
    const elsewhere = captureIo(dir, {AXX_CACHE: 'other-cache'});
    expect(await runCli(['watch', 'nope'], elsewhere)).toBe(2);
    expect(elsewhere.stderrText()).toContain('list them with axx runs --cache other-cache\n');
  });

  it('draws the dashboard with recorded progress, detaches on q while the run goes on', async () => {
    const {dir, store} = project();
    const record = startRun(store, 'r-ink', Date.now());
    record({type: 'step-start', step: a, attempt: 1, at: Date.now()});
    record({type: 'step-progress', step: a, done: 3, total: 10, unit: 'img', at: Date.now()});
    const stdout = fakeTerminal();
    const stdin = fakeKeyboard();
    const io = {...captureIo(dir), stdout, stdin} as CliIo;
    const following = followRun(store, store.runs.get('r-ink')!, io, {renderer: 'ink', pollMs: 20});
    await sleep(300);
    expect(stdout.text()).toContain('3/10 img');
    expect(stdout.text()).toContain('q detach');
    stdin.type('q');
    expect(await following).toBe('detached');
    expect(store.runs.get('r-ink')!.status).toBe('running');

    // Reattached: the ending arrives through the log and the final frame shows it with the resume command.
    const again = fakeTerminal();
    const following2 = followRun(store, store.runs.get('r-ink')!, {...io, stdout: again, stdin: fakeKeyboard()} as CliIo, {renderer: 'ink', pollMs: 20});
    await sleep(200);
    record({type: 'step-end', step: a, outcome: 'interrupted', at: Date.now()});
    finish(record, store, 'r-ink', 'interrupted', Date.now());
    expect(await following2).toBe('interrupted');
    expect(again.text()).toContain('INTERRUPTED');
    expect(again.text()).toContain('resume with: axx run p.yaml');
    store.close();
  });

  it('interrupts a run by sending SIGINT to its recorded pid', async () => {
    const {store} = project();
    startRun(store, 'r-pid', Date.now());
    const runProcess = spawn('sleep', ['30']);
    store.db.prepare('UPDATE runs SET pid = ?').run(runProcess.pid);
    expect(interruptRun(store, 'r-pid')).toBeUndefined();
    await exited(runProcess);
    expect(runProcess.signalCode).toBe('SIGINT');
    store.runs.end('r-pid', 'interrupted', Date.now());
    expect(interruptRun(store, 'r-pid')).toBe('run r-pid is not running; nothing to interrupt');
    store.close();
  });
});
