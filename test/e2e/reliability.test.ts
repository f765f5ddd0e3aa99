// The user's worst day, through the real CLI: hostile params, outputs that link out of the scratch
// dir, corrupt blobs, gc beside runs, a full disk, a damaged index, floods of output.
import {chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs';
import {spawnSync} from 'node:child_process';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {runCli} from '../../src/cli/main.js';
import {captureIo, exited, removeProjects, spawnAxx, tempProject} from './engine-helpers.js';
import {processesGone} from '../support/processes.js';

afterAll(removeProjects);

async function axx(dir: string, ...args: string[]): Promise<{code: number; out: string; err: string}> {
  const io = captureIo(dir);
  const code = await runCli(args, io);
  return {code, out: io.stdoutText(), err: io.stderrText()};
}

describe('exec steps cannot be turned against the user', () => {
  it('a param value is one shell word: -p with $(...) creates no file', async () => {
    const dir = tempProject({
      'p.yaml': `
params: {name: world}
steps:
  greet:
    uses: exec
    with:
      run: "echo hello \${{ params.name }} > g.txt"
      outputs: {g: {path: g.txt}}
`,
    });
    const pwned = join(dir, 'pwned');
    const result = await axx(dir, 'run', 'p.yaml', '-p', `name=$(touch ${pwned}); \`touch ${pwned}\` '"`);
    expect(result.code, result.err).toBe(0);
    expect(existsSync(pwned)).toBe(false);
    await axx(dir, 'export', 'greet.g', 'g.txt');
    expect(readFileSync(join(dir, 'g.txt'), 'utf8')).toBe(`hello $(touch ${pwned}); \`touch ${pwned}\` '"\n`);
  });

  it('an output that is or lies behind a symlink out of the scratch dir fails and leaves the user files in place', async () => {
    const dir = tempProject({});
    const precious = join(dir, 'precious');
    mkdirSync(precious);
    writeFileSync(join(precious, 'thesis.tex'), 'years of work');
    writeFileSync(
      join(dir, 'p.yaml'),
      `
steps:
  linked-dir:
    uses: exec
    with:
      run: "ln -s ${precious} out"
      outputs: {d: {path: out, type: dir}}
  linked-parent:
    uses: exec
    with:
      run: "ln -s ${precious} out"
      outputs: {f: {path: out/thesis.tex}}
`,
    );
    const result = await axx(dir, 'run', 'p.yaml');
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/symbolic link/);
    expect(readFileSync(join(precious, 'thesis.tex'), 'utf8')).toBe('years of work');
  });

  it('validate rejects an output path that leaves the scratch dir', async () => {
    const dir = tempProject({'p.yaml': 'steps:\n  a:\n    uses: exec\n    with: {run: "true", outputs: {o: {path: ../../o.txt}}}\n'});
    const result = await axx(dir, 'validate', 'p.yaml');
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/leaves the scratch directory/);
  });
});

describe('the cache never serves a wrong result', () => {
  it('a flipped byte in a cached blob is quarantined and its producer recomputed before a dependant reads it', async () => {
    const dir = tempProject({
      'p.yaml': `
params: {suffix: a}
steps:
  source:
    uses: exec
    with: {run: "seq 1000 > n.txt", outputs: {n: {path: n.txt}}}
  tail:
    uses: exec
    with:
      run: "tail -n 1 $AXX_IN_0 > t.txt; echo \${{ params.suffix }} >> t.txt"
      inputs: ["\${{ steps.source.outputs.n }}"]
      outputs: {t: {path: t.txt}}
`,
    });
    expect((await axx(dir, 'run', 'p.yaml')).code).toBe(0);
    const shown = JSON.parse((await axx(dir, 'show', 'source', '--json')).out) as {outputs: {n: {path: string}}};
    const blob = shown.outputs.n.path;
    const bytes = readFileSync(blob);
    bytes[bytes.length - 2] = '1'.charCodeAt(0); // 1000 → 1001, same size
    chmodSync(blob, 0o644);
    writeFileSync(blob, bytes);
    const again = await axx(dir, 'run', 'p.yaml', '-p', 'suffix=b');
    expect(again.code, again.err).toBe(0);
    expect(again.out + again.err).toMatch(/source \| cached output blob [0-9a-f]{12} has changed .*recomputing/);
    await axx(dir, 'export', 'tail.t', 't.txt');
    expect(readFileSync(join(dir, 't.txt'), 'utf8')).toBe('1000\nb\n');
  });
});

describe('hostile pipeline files get a located error and exit 2, fast', () => {
  const matrix = (n: number) => `[${Array.from({length: n}, (_, i) => i).join(', ')}]`;
  const cases: Record<string, {text: string | Buffer; error: RegExp}> = {
    'an alias bomb': {text: ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefgh'.split('').map((n, i) => `${n}: &${n} [${Array(9).fill(`*${'abcdefg'[i]}`).join(', ')}]`), 'steps: {}'].join('\n'), error: /aliases/},
    '3000-deep flow nesting': {text: `params: {x: ${'['.repeat(3000)}${']'.repeat(3000)}}\nsteps: {a: {uses: exec, with: {run: "true"}}}\n`, error: /nested more than 64 levels deep/},
    '1000-deep block nesting': {text: `params:\n${Array.from({length: 1000}, (_, i) => `${' '.repeat(i + 2)}k${i}:`).join('\n')} 1\nsteps: {a: {uses: exec, with: {run: "true"}}}\n`, error: /nested more than 64 levels deep/},
    'a 1000×1000 matrix': {text: `steps:\n  a:\n    uses: exec\n    matrix: {x: ${matrix(1000)}, y: ${matrix(1000)}}\n    with: {run: "true"}\n`, error: /1000000 instances.*limit of 2000/},
    'a 10 MB string': {text: `steps: {a: {uses: exec, with: {run: "${'x'.repeat(10 << 20)}"}}}\n`, error: /more than the limit of 1048576.*AXX_MAX_PIPELINE_BYTES/s},
    '.inf': {text: 'params: {lr: .inf}\nsteps: {a: {uses: exec, with: {run: "true"}}}\n', error: /numbers must be finite/},
    '1e400': {text: 'params: {lr: 1e400}\nsteps: {a: {uses: exec, with: {run: "true"}}}\n', error: /numbers must be finite/},
    'Latin-1 bytes': {text: Buffer.from('name: caf\xe9\nsteps: {a: {uses: exec, with: {run: "true"}}}\n', 'latin1'), error: /not UTF-8 at byte 9/},
  };
  // The first validation in a process compiles the schemas; the bound is about the file, not that.
  beforeAll(async () => void (await axx(tempProject({'p.yaml': 'steps: {a: {uses: exec, with: {run: "true"}}}\n'}), 'validate', 'p.yaml')));
  for (const [name, {text, error}] of Object.entries(cases)) {
    it(name, async () => {
      const dir = tempProject({});
      writeFileSync(join(dir, 'p.yaml'), text);
      const result = await axx(dir, 'validate', 'p.yaml');
      expect(result.code, result.err).toBe(2);
      expect(result.err).toMatch(error);
      // Before these limits, some of the files kept validate busy for minutes: the test's timeout is the guard.
    }, 30_000);
  }
});

describe('gc beside running runs', () => {
  it('gc --keep-last 1 in a loop beside 5 real runs breaks none of them', async () => {
    // Each run publishes its own files and directory trees (tag) and one shared file, in a chain, so
    // gc sees blobs moved in but not yet committed, and trees about to be read.
    const step = (id: string, input: string | undefined) => `
  ${id}:
    uses: exec
    with:
      run: "mkdir -p tree/sub; seq 2000 | sed s/^/\${{ params.tag }}-${id}-/ > tree/sub/lines; ${input === undefined ? '' : 'cat $AXX_IN_0/sub/lines | wc -l > tree/count;'} echo shared > common"
      ${input === undefined ? '' : `inputs: ["\${{ steps.${input}.outputs.tree }}"]`}
      outputs: {tree: {path: tree, type: dir}, common: {path: common}}`;
    const ids = ['s1', 's2', 's3', 's4'];
    const pipeline = `params: {tag: t}\nsteps:${ids.map((id, i) => step(id, ids[i - 1])).join('')}\n`;
    const dir = tempProject({'p.yaml': pipeline});
    expect((await axx(dir, 'run', 'p.yaml', '-p', 'tag=old')).code).toBe(0);
    const children = [1, 2, 3, 4, 5].map((n) => spawnAxx(['run', 'p.yaml', '-p', `tag=run${n}`], dir));
    const codes = Promise.all(children.map((c) => exited(c)));
    let running = true;
    void codes.then(() => (running = false));
    let passes = 0;
    while (running) {
      const gc = await axx(dir, 'gc', '--keep-last', '1');
      expect(gc.code, gc.err).toBe(0);
      passes++;
    }
    expect(await codes, children.map((c) => c.output()).join('\n')).toEqual([0, 0, 0, 0, 0]);
    expect(passes).toBeGreaterThan(1);
    expect((await axx(dir, 'cache', 'verify')).code).toBe(0);
    for (const n of [1, 2, 3, 4, 5]) {
      const again = await axx(dir, 'run', 'p.yaml', '-p', `tag=run${n}`);
      expect(again.code, again.err).toBe(0);
    }
  }, 180_000);
});

describe('a full disk', () => {
  it('fails the step with "no space left", leaves runs/gc/verify working, and gc frees the space', async (context) => {
    const dir = tempProject({
      'p.yaml': `
params: {kb: 3000, tag: a}
steps:
  big:
    uses: exec
    with:
      run: "head -c \${{ params.kb }}k /dev/urandom > big; echo \${{ params.tag }}"
      outputs: {big: {path: big}}
`,
    });
    const cache = join(dir, 'cache');
    mkdirSync(cache);
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', cache]);
    if (mount.status !== 0) {
      context.skip(`needs permission to mount a tmpfs (root): ${mount.stderr.toString().trim()}`);
      return;
    }
    try {
      expect((await axx(dir, 'run', 'p.yaml', '-p', 'kb=3000', '-p', 'tag=a')).code).toBe(0);
      const full = await axx(dir, 'run', 'p.yaml', '-p', 'kb=5000', '-p', 'tag=b');
      expect(full.code).toBe(1);
      expect(full.err).toMatch(/no space left on|No space left on device/);
      for (const command of [['runs'], ['cache', 'verify'], ['gc', '--dry-run']]) {
        const result = await axx(dir, ...command);
        expect(result.code, `${command.join(' ')}: ${result.err}`).toBe(0);
      }
      const gc = await axx(dir, 'gc', '--keep-last', '1');
      expect(gc.code, gc.err).toBe(0);
      expect(gc.out).toMatch(/removed 1 results, [1-9]/);
      const again = await axx(dir, 'run', 'p.yaml', '-p', 'kb=5000', '-p', 'tag=b');
      expect(again.code, again.err).toBe(0);
    } finally {
      spawnSync('umount', ['-l', cache]);
    }
  });
});

describe('a damaged index', () => {
  const chain = `
steps:
  a:
    uses: exec
    with: {run: "seq 5 > a", outputs: {a: {path: a}}}
  b:
    uses: exec
    with: {run: "wc -l < $AXX_IN_0 > b", inputs: ["\${{ steps.a.outputs.a }}"], outputs: {b: {path: b}}}
`;
  it('is reported with the repair command (exit 2, not 70); cache repair keeps what it can read and the next run works', async () => {
    const dir = tempProject({'p.yaml': chain});
    expect((await axx(dir, 'run', 'p.yaml')).code).toBe(0);
    const index = join(dir, 'cache', 'index.sqlite');
    writeFileSync(index, readFileSync(index).subarray(0, 100));
    for (const command of [['runs'], ['run', 'p.yaml'], ['gc']]) {
      const result = await axx(dir, ...command);
      expect(result.code, `${command.join(' ')}: ${result.err}`).toBe(2);
      expect(result.err).toMatch(/index.sqlite is damaged\n {2}hint: run "axx cache repair --cache .*cache"/);
    }
    const repair = await axx(dir, 'cache', 'repair');
    expect(repair.code, repair.err).toBe(0);
    expect(repair.out).toMatch(/new index started; .*; 2 blobs registered; the damaged index is in .*index-damaged-\d+/);
    expect(existsSync(join(repair.out.split(' is in ')[1]!.trim(), 'index.sqlite'))).toBe(true);
    const again = await axx(dir, 'run', 'p.yaml');
    expect(again.code, again.err).toBe(0);
    await axx(dir, 'export', 'b.b', 'b.txt');
    expect(readFileSync(join(dir, 'b.txt'), 'utf8').trim()).toBe('5');
  });

  it('a readable index keeps its results through cache repair', async () => {
    const dir = tempProject({'p.yaml': chain});
    expect((await axx(dir, 'run', 'p.yaml')).code).toBe(0);
    const repair = await axx(dir, 'cache', 'repair');
    expect(repair.out).toMatch(/2 results kept, 0 dropped/);
    expect((await axx(dir, 'run', 'p.yaml')).out).toMatch(/= a cached[\s\S]*= b cached/);
  });
});

describe('a flood of output', () => {
  it('1 MB of stdout in many lines runs in seconds and leaves a small index; the last line without a newline is kept', async () => {
    const dir = tempProject({'p.yaml': 'steps:\n  chatty:\n    uses: exec\n    with: {run: "seq 150000; printf tail-without-newline"}\n'});
    // It took 82 s before output was recorded in chunks with a cap: the test's timeout is the guard.
    const result = await axx(dir, 'run', 'p.yaml');
    expect(result.code, result.err).toBe(0);
    expect(result.out).toContain('tail-without-newline');
    expect(statSync(join(dir, 'cache', 'index.sqlite')).size + (statSync(join(dir, 'cache', 'index.sqlite-wal'), {throwIfNoEntry: false})?.size ?? 0)).toBeLessThan(8 << 20);
    const shown = await axx(dir, 'show', 'chatty');
    const overflow = /the rest of its output is in (\S+\.log)/.exec(shown.out)?.[1];
    expect(overflow, shown.out).toBeDefined();
    const rest = readFileSync(overflow!, 'utf8');
    expect(rest).toContain('\n150000\n');
    expect(rest.trimEnd().endsWith('tail-without-newline')).toBe(true);
  }, 60_000);
});

describe('step timeouts', () => {
  it('timeout: stops the whole command tree and fails the step, pointing at the timeout line', async () => {
    // A duration no other process uses, to find any sleep the timeout left behind.
    const marker = `sleep 60.${process.pid}`;
    const dir = tempProject({'p.yaml': `steps:\n  hang:\n    uses: exec\n    timeout: 1\n    with: {run: "${marker} & ${marker}; wait"}\n`});
    const result = await axx(dir, 'run', 'p.yaml');
    expect(await processesGone(marker), 'a sleep of the command tree outlived the timeout').toBe(true);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/p\.yaml:4:\d+: step hang failed: timed out after 1 s\n {2}hint: .*raise timeout:/);
  });
});
