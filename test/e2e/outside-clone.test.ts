// axx as a user installs it: the package `npm pack` makes, laid out as `npm install -g --prefix <p>`
// lays it out (the package under lib/node_modules, its command in bin/), with only the production
// dependencies beside it (no tsx, no TypeScript). It runs from the user's own directory, outside the
// clone, on the user's pipeline and model, with the cache in that directory; a printed re-run command
// works when pasted.
import {execFileSync, spawnSync} from 'node:child_process';
import {copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {ensureDist} from '../support/build-dist.js';

const repo = join(import.meta.dirname, '..', '..');
const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {name: string; version: string};
const temp = mkdtempSync(join(tmpdir(), 'axx-outside-'));
const prefix = join(temp, 'prefix');
const user = join(temp, 'my-study');

/** The production packages of the lockfile that sit at the top of node_modules (nested ones come along inside them). */
function productionPackages(): string[] {
  const lock = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8')) as {packages: Record<string, {dev?: boolean; devOptional?: boolean}>};
  return Object.entries(lock.packages)
    .filter(([path, entry]) => /^node_modules\/(?:@[^/]+\/)?[^/]+$/.test(path) && entry.dev !== true && entry.devOptional !== true)
    .map(([path]) => path.slice('node_modules/'.length));
}

/** What `npm install -g --prefix` would make of the packed tarball, with this machine's installed dependencies. */
function installPacked(): void {
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', temp], {cwd: repo, encoding: 'utf8'})) as {filename: string}[];
  const home = join(prefix, 'lib', 'node_modules', manifest.name);
  mkdirSync(home, {recursive: true});
  execFileSync('tar', ['-xzf', join(temp, packed!.filename), '-C', home, '--strip-components=1']);
  for (const name of productionPackages()) {
    if (!existsSync(join(repo, 'node_modules', name))) continue; // an optional package for another platform
    mkdirSync(join(home, 'node_modules', name, '..'), {recursive: true});
    symlinkSync(join(repo, 'node_modules', name), join(home, 'node_modules', name));
  }
  mkdirSync(join(prefix, 'bin'));
  symlinkSync(join(home, 'bin', 'axx.js'), join(prefix, 'bin', 'axx'));
}

/** A shell in the user's directory with the install's bin/ first on PATH, as after `npm install -g`. */
function shell(line: string, env: Record<string, string> = {}): {status: number | null; out: string} {
  const result = spawnSync('bash', ['-c', line], {
    cwd: user,
    encoding: 'utf8',
    env: {...process.env, PATH: `${join(prefix, 'bin')}:${process.env['PATH']}`, AXX_CACHE: '', CI: 'true', ...env},
  });
  return {status: result.status, out: result.stdout + result.stderr};
}

const pipeline = `
name: my-study
steps:
  model:
    uses: load/model
    executor: child-process
    with: {path: models/my-model.onnx}
  summary:
    uses: exec
    with:
      run: "test -f ${join(user, 'ready')} || { echo 'touch ready first' >&2; exit 1; }; head -c 16 $AXX_IN_0 | wc -c > summary.txt"
      inputs: ["\${{ steps.model.outputs.model }}"]
      outputs: {summary: {path: summary.txt}}
`;

beforeAll(() => {
  ensureDist();
  installPacked();
  mkdirSync(join(user, 'models'), {recursive: true});
  copyFileSync(join(repo, 'assets', 'models', 'vit-mnist.onnx'), join(user, 'models', 'my-model.onnx'));
  writeFileSync(join(user, 'study.yaml'), pipeline);
});

afterAll(() => {
  spawnSync('chmod', ['-R', 'u+w', temp]);
  rmSync(temp, {recursive: true, force: true});
});

describe('axx installed from its package, outside the clone', () => {
  it('ships the compiled CLI and what it reads at run time, and runs without dev dependencies', () => {
    const home = join(prefix, 'lib', 'node_modules', manifest.name);
    for (const path of ['bin/axx.js', 'dist/cli/main.js', 'dist/cli/step-child.js', 'schemas/pipeline.schema.json', 'assets/models/vit-mnist.onnx']) expect(existsSync(join(home, path)), path).toBe(true);
    expect(existsSync(join(home, 'src'))).toBe(false);
    expect(existsSync(join(home, 'node_modules', 'tsx'))).toBe(false);
    expect(existsSync(join(home, 'node_modules', 'typescript'))).toBe(false);
    const version = shell('axx --version');
    expect(version).toEqual({status: 0, out: `${manifest.version}\n`});
  });

  it('runs the user pipeline on the user model with the cache in their directory; the printed re-run command works pasted', () => {
    // The cache elsewhere through $AXX_CACHE: the printed command must name it, as the pasted one runs without it.
    const failed = shell('axx run study.yaml', {AXX_CACHE: join(temp, 'elsewhere')});
    expect(failed.status, failed.out).toBe(1);
    expect(failed.out).toContain('touch ready first');
    const printed = /re-run \(finished steps stay cached\):\n {2}(.+)\n/.exec(failed.out)?.[1];
    expect(printed).toBe(`axx run study.yaml --cache ${join(temp, 'elsewhere')}`);

    writeFileSync(join(user, 'ready'), '');
    const pasted = shell(printed!);
    expect(pasted.status, pasted.out).toBe(0);
    expect(pasted.out).toMatch(/= model cached/);
    expect(pasted.out).toMatch(/✓ summary ran/);

    // Without options the cache is the user's directory's own.
    const local = shell('axx run study.yaml');
    expect(local.status, local.out).toBe(0);
    expect(existsSync(join(user, 'cache'))).toBe(true);
    expect(shell('axx runs').out).toContain('passed');
  });
});
