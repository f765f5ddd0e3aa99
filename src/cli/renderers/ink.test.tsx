import {EventEmitter} from 'node:events';
import {PassThrough} from 'node:stream';
import {describe, expect, it} from 'vitest';
import type {StepRef} from '../../engine/events.js';
import type {CliIo} from '../command.js';
import {canUseInk, inkRenderer} from './ink.js';

/** A terminal-like stream: ink draws to it as to a TTY of 100×30. */
function fakeTerminal(): PassThrough & {columns: number; rows: number; isTTY: boolean; text: () => string} {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  return Object.assign(stream, {columns: 100, rows: 30, isTTY: true, text: () => text});
}

/** A keyboard that never types: what ink needs for raw mode (as ink-testing-library's Stdin). */
function fakeKeyboard(): NodeJS.ReadStream {
  const noop = (): void => undefined;
  return Object.assign(new EventEmitter(), {isTTY: true, setEncoding: noop, setRawMode: noop, resume: noop, pause: noop, ref: noop, unref: noop, read: () => null}) as unknown as NodeJS.ReadStream;
}

const a: StepRef = {id: 'a', instance: 'a', kind: 'exec'};

describe('ink renderer', () => {
  it('draws run events through the dashboard and unmounts on close', async () => {
    const stdout = fakeTerminal();
    const io = {stdout, stdin: fakeKeyboard(), stderr: new PassThrough(), env: {}, cwd: '/', signal: new AbortController().signal, argv0: 'axx'} as CliIo;
    const renderer = inkRenderer(io, {interrupt: () => undefined});
    renderer.sink({type: 'run-start', runId: 'r1', pipeline: 'demo', steps: [a], at: 0});
    renderer.sink({type: 'step-start', step: a, attempt: 1, at: 1});
    renderer.sink({type: 'step-end', step: a, outcome: 'ran', at: 2});
    renderer.sink({type: 'run-end', runId: 'r1', reason: 'passed', at: 3});
    await renderer.close();
    expect(stdout.text()).toContain('demo');
    expect(stdout.text()).toContain('steps 1/1 done');
  });

  it('is the default only on an interactive terminal outside CI', () => {
    const tty = {isTTY: true};
    const base = {stderr: new PassThrough(), cwd: '/', signal: new AbortController().signal, argv0: 'axx'};
    expect(canUseInk({...base, stdout: tty, stdin: tty, env: {}} as unknown as CliIo)).toBe(true);
    expect(canUseInk({...base, stdout: tty, stdin: tty, env: {CI: 'true'}} as unknown as CliIo)).toBe(false);
    expect(canUseInk({...base, stdout: new PassThrough(), stdin: tty, env: {}} as unknown as CliIo)).toBe(false);
  });
});
