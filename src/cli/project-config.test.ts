import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {parseArgs} from './args.js';
import {redisUrlFrom, remoteOptions, sharedBlobsFrom, projectConfigFrom} from './executors.js';
import {ProjectConfigError, readProjectConfig} from './project-config.js';
import {captureIo} from '../../test/e2e/engine-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'axx-project-config-'));
afterAll(() => rmSync(root, {recursive: true, force: true}));

let counter = 0;
function project(config?: string): string {
  const dir = join(root, `p${counter++}`);
  mkdirSync(dir, {recursive: true});
  writeFileSync(join(dir, 'package.json'), '{}\n');
  if (config !== undefined) writeFileSync(join(dir, 'axx.yaml'), config);
  return dir;
}

function errorOf(dir: string): ProjectConfigError {
  try {
    readProjectConfig(dir);
  } catch (error) {
    if (error instanceof ProjectConfigError) return error;
    throw error;
  }
  throw new Error('no error');
}

describe('axx.yaml', () => {
  it('is optional', () => {
    expect(readProjectConfig(project())).toEqual({});
  });

  it('gives redis, and blobs relative to its own directory', () => {
    const dir = project('redis: redis://lab1:6379\nblobs: shared/blobs\n');
    expect(readProjectConfig(dir)).toEqual({redis: 'redis://lab1:6379', blobs: join(dir, 'shared/blobs')});
  });

  it('points at the line of a bad URL, never printing its password', () => {
    const error = errorOf(project('# lab settings\nredis: http://me:secret@lab1\n'));
    expect(error.diagnostic.location).toMatchObject({line: 2, column: 8});
    expect(error.message).toContain('redis://');
    expect(error.message).not.toContain('secret');
  });

  it('names an unknown setting and the known ones', () => {
    const error = errorOf(project('redis: redis://lab1\nredsi: x\n'));
    expect(error.diagnostic.location).toMatchObject({line: 2, column: 1});
    expect(error.message).toContain('unknown setting "redsi"');
    expect(error.diagnostic.hint).toContain('redis');
  });

  it('rejects a value that is not a string', () => {
    expect(errorOf(project('redis: [a, b]\n')).message).toContain('"redis" must be a non-empty string');
  });

  it('is used only where neither --redis nor $AXX_REDIS_URL is given', () => {
    const dir = project('redis: redis://from-config:6379\nblobs: /shared\n');
    const config = projectConfigFrom(captureIo(dir));
    const none = parseArgs([], remoteOptions);
    expect(redisUrlFrom(none, captureIo(dir), config)).toBe('redis://from-config:6379');
    expect(redisUrlFrom(none, captureIo(dir, {AXX_REDIS_URL: 'redis://from-env:1'}), config)).toBe('redis://from-env:1');
    expect(redisUrlFrom(parseArgs(['--redis', 'redis://from-flag:2'], remoteOptions), captureIo(dir), config)).toBe('redis://from-flag:2');
    expect(sharedBlobsFrom(none, captureIo(dir), config).root).toBe('/shared');
  });

  it('a bad file is a usage error pointing at the file', () => {
    const dir = project('redis: 12\n');
    expect(() => projectConfigFrom(captureIo(dir))).toThrow(/axx\.yaml:1:8: error: "redis" must be a non-empty string/);
  });
});
