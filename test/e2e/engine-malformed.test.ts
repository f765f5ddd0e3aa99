// Every malformed pipeline under test/fixtures/pipelines/bad/ must fail `axx validate` with exit 2
// and a diagnostic at the location its first line announces: "# expect: LINE:COL message part".
import {readdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {captureIo} from './engine-helpers.js';
import {runCli} from '../../src/cli/main.js';

const dir = join(import.meta.dirname, '..', 'fixtures', 'pipelines', 'bad');
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();

describe('malformed pipelines', () => {
  it('has at least 20 cases', () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
  });

  it.each(files)('%s', async (file) => {
    const path = join(dir, file);
    const header = /^# expect: (\d+):(\d+) (.+)$/.exec(readFileSync(path, 'utf8').split('\n')[0]!);
    expect(header, 'first line must be "# expect: LINE:COL text"').not.toBeNull();
    const [, line, column, text] = header!;
    const io = captureIo(dir);
    const code = await runCli(['validate', file], io);
    expect(code).toBe(2);
    const located = io.stderrText().split('\n').find((l) => l.startsWith(`${file}:${line}:${column}: error: `) && l.includes(text!));
    expect(located, `stderr was:\n${io.stderrText()}`).toBeDefined();
    expect(io.stderrText()).toContain('hint: ');
  });
});
