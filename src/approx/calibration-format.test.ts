import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {CalibrationFormatError, readCalibrationFile} from './calibration-format.js';

const dir = mkdtempSync(join(tmpdir(), 'axx-calibration-format-'));
afterAll(() => rmSync(dir, {recursive: true, force: true}));

describe('readCalibrationFile', () => {
  it('gives every unusable file as a CalibrationFormatError naming the file', async () => {
    const notJson = join(dir, 'not-json.json');
    writeFileSync(notJson, '{oops');
    const wrongFormat = join(dir, 'wrong.json');
    writeFileSync(wrongFormat, JSON.stringify({format: 'something-else'}));
    for (const file of [join(dir, 'missing.json'), notJson, wrongFormat]) {
      const error = await readCalibrationFile(file).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CalibrationFormatError);
      expect((error as Error).message).toContain(file);
    }
  });
});
