// Every pipeline shipped in pipelines/ must pass `axx validate` against the registered kinds.
import {readdirSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {runCli} from '../../src/cli/main.js';
import {captureIo} from './engine-helpers.js';

const root = join(import.meta.dirname, '..', '..');
const pipelines = readdirSync(join(root, 'pipelines')).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'));

describe('shipped pipelines', () => {
  it.each(pipelines)('%s validates', async (file) => {
    const io = captureIo(root);
    const code = await runCli(['validate', join('pipelines', file)], io);
    expect(io.stderrText()).toBe('');
    expect(code).toBe(0);
  });
});
