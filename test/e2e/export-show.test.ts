// `axx export` and `axx show` read a step's outputs from one run: the latest run of the pipeline by
// default, another with --run; value outputs are written as JSON; a directory destination works.
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {runCli} from '../../src/cli/main.js';
import {captureIo, removeProjects, tempProject} from './engine-helpers.js';

afterAll(removeProjects);

const pipeline = `
name: scoped
params:
  label: x
steps:
  first:
    uses: exec
    with:
      run: "echo same > o.txt"
      outputs: {o: {path: o.txt}}
  second:
    uses: exec
    with:
      run: "echo same > o.txt"
      outputs: {o: {path: o.txt}}
  report:
    uses: exec
    with:
      run: "echo \${{ params.label }} > r.txt"
      outputs: {r: {path: r.txt}}
  model:
    uses: load/model
    with: {name: vit-mnist}
  dirs:
    uses: exec
    with:
      run: "mkdir d && echo in > d/inner.txt"
      outputs: {d: {path: d, type: dir}}
`;

async function cli(dir: string, ...args: string[]): Promise<{code: number; out: string; err: string}> {
  return cliAs('axx', dir, ...args);
}

/** Runs axx as if the user had started it as `argv0` ("npx axx"), so the commands it prints start so. */
async function cliAs(argv0: string, dir: string, ...args: string[]): Promise<{code: number; out: string; err: string}> {
  const io = {...captureIo(dir), argv0};
  const code = await runCli(args, io);
  return {code, out: io.stdoutText(), err: io.stderrText()};
}

/** The words of a printed command after the way axx was invoked, as a shell would split them (no quoting needed here). */
function pasted(command: string, argv0: string): string[] {
  expect(command.startsWith(`${argv0} `), command).toBe(true);
  return command.slice(argv0.length + 1).split(' ');
}

function runIdOf(out: string): string {
  const match = /"runId":"([^"]+)"/.exec(out);
  if (match === null) throw new Error(`no run id in ${out.slice(0, 200)}`);
  return match[1]!;
}

describe('axx export and show within one run', () => {
  it('exports the default run after a variant run and a fully cached re-run of the default', async () => {
    const dir = tempProject({'p.yaml': pipeline});
    expect((await cli(dir, 'run', 'p.yaml', '--json')).code).toBe(0);
    const variant = await cli(dir, 'run', 'p.yaml', '--json', '-p', 'label=variant');
    expect(variant.code).toBe(0);
    const cached = await cli(dir, 'run', 'p.yaml', '--json');
    expect(cached.out).not.toContain('"outcome":"ran"');
    expect((await cli(dir, 'export', 'report.r', 'r.txt')).code).toBe(0);
    expect(readFileSync(join(dir, 'r.txt'), 'utf8')).toBe('x\n');
    // --run picks the variant.
    const pick = await cli(dir, 'export', 'report.r', 'v.txt', '--run', runIdOf(variant.out));
    expect(pick.code, pick.err).toBe(0);
    expect(readFileSync(join(dir, 'v.txt'), 'utf8')).toBe('variant\n');
    const show = await cli(dir, 'show', 'report', '--json');
    expect(JSON.parse(show.out).step.runId).toBe(runIdOf(cached.out));
  });

  it('exports a result reused under another step name', async () => {
    const dir = tempProject({'p.yaml': pipeline});
    const run = await cli(dir, 'run', 'p.yaml', '--json');
    expect(run.out).toMatch(/"instance":"second"[^\n]*"outcome":"cached"|"outcome":"cached"[^\n]*"instance":"second"/);
    const second = await cli(dir, 'export', 'second.o', 'second.txt');
    expect(second.code, second.err).toBe(0);
    expect(readFileSync(join(dir, 'second.txt'), 'utf8')).toBe('same\n');
  });

  it('writes a value output as a JSON file, and into an existing directory', async () => {
    const dir = tempProject({'p.yaml': pipeline});
    expect((await cli(dir, 'run', 'p.yaml', '--only', 'model', '--only', 'dirs')).code).toBe(0);
    const value = await cli(dir, 'export', 'model.info', 'info.json');
    expect(value.code, value.err).toBe(0);
    expect(value.out.length).toBeLessThan(300);
    expect(JSON.parse(readFileSync(join(dir, 'info.json'), 'utf8'))).toMatchObject({macs: {total: expect.any(Number)}});
    mkdirSync(join(dir, 'out'));
    writeFileSync(join(dir, 'out', 'keep.txt'), 'mine');
    const intoDir = await cli(dir, 'export', 'model.model', 'out');
    expect(intoDir.code, intoDir.err).toBe(0);
    expect(readFileSync(join(dir, 'out', 'model.model')).length).toBeGreaterThan(1000);
    expect(readFileSync(join(dir, 'out', 'keep.txt'), 'utf8')).toBe('mine');
    expect((await cli(dir, 'export', 'model.info', 'out')).code).toBe(0);
    // A directory output merges into an existing directory, the same tree however often it is exported.
    for (let i = 0; i < 2; i++) expect((await cli(dir, 'export', 'dirs.d', 'out')).code).toBe(0);
    expect(readFileSync(join(dir, 'out', 'inner.txt'), 'utf8')).toBe('in\n');
    expect(readFileSync(join(dir, 'out', 'keep.txt'), 'utf8')).toBe('mine');
    writeFileSync(join(dir, 'file.txt'), '');
    const onFile = await cli(dir, 'export', 'dirs.d', 'file.txt');
    expect(onFile.code).toBe(2);
    expect(onFile.err).toContain(`${join(dir, 'file.txt')} is a file and dirs.d of run`);
    expect(JSON.parse(readFileSync(join(dir, 'out', 'model.info.json'), 'utf8'))).toHaveProperty('macs');
  });

  it('names the run and lists what exists when a step or output is missing', async () => {
    const dir = tempProject({'p.yaml': pipeline});
    const run = await cli(dir, 'run', 'p.yaml', '--json', '--only', 'report');
    const id = runIdOf(run.out);
    const noOutput = await cli(dir, 'export', 'report.nope', 'x');
    expect(noOutput.code).toBe(2);
    expect(noOutput.err).toContain(`step "report" in run ${id} (scoped, passed) has no output "nope"; its outputs: r`);
    const noStep = await cli(dir, 'export', 'model.info', 'x');
    expect(noStep.code).toBe(2);
    expect(noStep.err).toContain(`no run has a step "model"; the latest run ${id} (scoped, passed) has: report`);
    const otherPipeline = await cli(dir, 'export', 'report.r', 'x', '--pipeline', 'other');
    expect(otherPipeline.err).toContain('no run of pipeline "other" has a step "report"');
    expect((await cli(dir, 'export', 'report.r', 'x', '--pipeline', 'p.yaml')).code).toBe(0);
  });
});

describe('axx show', () => {
  it('summarises long values to short lines; --json keeps everything', async () => {
    const dir = tempProject({'p.yaml': pipeline});
    expect((await cli(dir, 'run', 'p.yaml', '--only', 'model')).code).toBe(0);
    const text = await cli(dir, 'show', 'model');
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/info: value \(the whole: axx export model\.info --run \S+ <file>, or --json\)/);
    expect(text.out).toMatch(/\n {4}macs: \{total, perLayer\}\n/);
    expect(Math.max(...text.out.split('\n').filter((l) => !l.includes('/cache/')).map((l) => l.length))).toBeLessThanOrEqual(120);
    const json = await cli(dir, 'show', 'model', '--json');
    expect(JSON.parse(json.out).outputs.info.value.macs.perLayer['blocks.0.attn.qkv']).toBeGreaterThan(0);
  });
});

describe('the end-of-run summary', () => {
  it('prints the command that exports the report, and it works when pasted', async () => {
    const dir = tempProject({
      'p.yaml': `
name: summary
steps:
  page:
    uses: exec
    with:
      run: "echo '<p>hi</p>' > r.html"
      outputs: {html: {path: r.html}}
`,
    });
    const run = await cli(dir, 'run', 'p.yaml', '--renderer', 'plain', '--cache', 'my-cache');
    expect(run.code, run.err).toBe(0);
    const line = run.out.split('\n').find((l) => l.startsWith('report: '));
    expect(line).toMatch(/^report: axx export page\.html out\/report\.html --run \S+ --provenance --cache my-cache$/);
    const words = line!.slice('report: axx '.length).split(' ');
    const pasted = await cli(dir, ...words);
    expect(pasted.code, pasted.err).toBe(0);
    expect(readFileSync(join(dir, 'out', 'report.html'), 'utf8')).toBe('<p>hi</p>\n');
    const provenance = JSON.parse(readFileSync(join(dir, 'out', 'report.html.provenance.json'), 'utf8'));
    expect(provenance).toMatchObject({
      format: 'axx-provenance',
      exported: {output: 'page.html'},
      run: {id: words[words.indexOf('--run') + 1], name: 'summary', status: 'passed'},
      pipeline: {file: join(dir, 'p.yaml'), sha256: expect.stringMatching(/^[0-9a-f]{64}$/), modifiedSinceRun: false},
      steps: [{instance: 'page', kind: 'exec', params: {run: "echo '<p>hi</p>' > r.html"}}],
    });
  });
});

describe('hints name axx as the user invoked it and keep a non-default --cache', () => {
  const argv0 = 'npx axx';

  it('show: the export command for a long value works when pasted', async () => {
    const dir = tempProject({'p.yaml': pipeline});
    expect((await cliAs(argv0, dir, 'run', 'p.yaml', '--only', 'model', '--cache', 'my-cache')).code).toBe(0);
    const shown = await cliAs(argv0, dir, 'show', 'model', '--cache', 'my-cache');
    const command = /\(the whole: (.+) <file>, or --json\)/.exec(shown.out)?.[1];
    expect(command).toMatch(/^npx axx export model\.info --run \S+ --cache my-cache$/);
    const exported = await cliAs(argv0, dir, ...pasted(command!, argv0), 'info.json');
    expect(exported.code, exported.err).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'info.json'), 'utf8'))).toHaveProperty('macs');
  });

  it('show, export and compare: an unknown run id points at a runs command that works when pasted', async () => {
    const dir = tempProject({'p.yaml': pipeline});
    expect((await cliAs(argv0, dir, 'run', 'p.yaml', '--only', 'report', '--cache', 'my-cache')).code).toBe(0);
    const failures = [
      await cliAs(argv0, dir, 'show', 'report', '--run', 'nope', '--cache', 'my-cache'),
      await cliAs(argv0, dir, 'export', 'report.r', 'x', '--run', 'nope', '--cache', 'my-cache'),
      await cliAs(argv0, dir, 'compare', 'nope', '--cache', 'my-cache'),
      await cliAs(argv0, dir, 'show', '--cache', 'my-cache'),
    ];
    for (const failure of failures) {
      expect(failure.code).toBe(2);
      const command = /(npx axx runs[^;)]*) lists runs/.exec(failure.err)?.[1];
      expect(command, failure.err).toBe('npx axx runs --cache my-cache');
      const runs = await cliAs(argv0, dir, ...pasted(command!, argv0));
      expect(runs.code, runs.err).toBe(0);
      expect(runs.out).toContain('scoped');
    }
  });

  it('a failed step: the command its hint names works when pasted, in this process and in a step process', async () => {
    const dir = tempProject({
      'p.yaml': ['steps:', ...['here', 'child'].flatMap((id) => [`  ${id}:`, '    uses: characterize', ...(id === 'child' ? ['    executor: child-process'] : []), '    with: {multipliers: [mul8s_nope]}'])].join('\n'),
    });
    const run = await cliAs(argv0, dir, 'run', 'p.yaml', '--renderer', 'plain');
    expect(run.code).toBe(1);
    const commands = [...(run.out + run.err).matchAll(/run "(npx axx multipliers)" for the names/g)].map((m) => m[1]!);
    expect(commands, run.out + run.err).toEqual(['npx axx multipliers', 'npx axx multipliers']);
    expect((await cliAs(argv0, dir, ...pasted(commands[0]!, argv0))).code).toBe(0);
  });

  it('pipeline diagnostics: the kinds command works when pasted', async () => {
    const dir = tempProject({'p.yaml': 'steps:\n  a:\n    uses: exce\n    with: {run: "true"}\n'});
    const loaded = await cliAs(argv0, dir, 'validate', 'p.yaml');
    expect(loaded.code).toBe(2);
    const command = /\((npx axx kinds)\)/.exec(loaded.err)?.[1];
    expect(command, loaded.err).toBe('npx axx kinds');
    expect((await cliAs(argv0, dir, ...pasted(command!, argv0))).code).toBe(0);
  });
});
