// `axx run bad.yaml --json`: a pipeline that never starts still speaks NDJSON on stdout — one failure event
// per problem kind (schema-invalid with every diagnostic, one cycle per cycle) — and exits 2.
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {runCli} from '../../src/cli/main.js';
import type {AxxEvent} from '../../src/engine/events.js';
import {captureIo} from './engine-helpers.js';

const dir = join(import.meta.dirname, '..', 'fixtures', 'pipelines', 'bad');

async function runJson(file: string, ...extra: string[]): Promise<{code: number; events: AxxEvent[]}> {
  const io = captureIo(dir);
  const code = await runCli(['run', file, '--json', ...extra], io);
  const lines = io.stdoutText().split('\n').filter((line) => line !== '');
  return {code, events: lines.map((line) => JSON.parse(line) as AxxEvent)};
}

describe('run --json on a pipeline that does not load', () => {
  it('emits a schema-invalid failure with the located diagnostics', async () => {
    const {code, events} = await runJson('unknown-kind.yaml');
    expect(code).toBe(2);
    expect(events).toEqual([
      {type: 'failure', at: expect.any(Number), failure: {reason: 'schema-invalid', diagnostics: [expect.objectContaining({message: expect.stringContaining('unknown kind'), location: expect.objectContaining({file: join(dir, 'unknown-kind.yaml')})})]}},
    ]);
  });

  it('emits a cycle failure for a cycle', async () => {
    const {code, events} = await runJson('cycle.yaml');
    expect(code).toBe(2);
    expect(events.map((e) => (e.type === 'failure' ? e.failure.reason : e.type))).toEqual(['cycle']);
  });

  it('reports a bad -p override as a failure too', async () => {
    const {code, events} = await runJson('cycle.yaml', '-p', 'no-equals-sign');
    expect(code).toBe(2);
    expect(events.map((e) => (e.type === 'failure' ? e.failure.reason : e.type))).toEqual(['schema-invalid', 'cycle']);
  });
});
