// End-to-end runs of exec pipelines through the CLI (in-process; the crash and concurrency cases
// spawn the real CLI): caching, early cutoff, failures, interrupts, corruption.
import {chmodSync, readFileSync, statSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {runCli} from '../../src/cli/main.js';
import {captureIo, exited, removeProjects, spawnAxx, tempProject} from './engine-helpers.js';
import {processesGone} from '../support/processes.js';
import {GC_CLOCK_MARGIN_MS} from '../../src/engine/store/maintenance.js';

afterAll(removeProjects);

const chain = `
name: chain
params:
  count: 3
  label: x
steps:
  numbers:
    uses: exec
    with:
      run: "seq \${{ params.count }} > n.txt"
      outputs: {n: {path: n.txt}}
  labels:
    uses: exec
    with:
      run: "echo \${{ params.label }} > l.txt"
      outputs: {l: {path: l.txt}}
  sum:
    uses: exec
    with:
      run: "paste -sd+ $AXX_IN_0 | bc > s.txt"
      inputs: ["\${{ steps.numbers.outputs.n }}"]
      outputs: {s: {path: s.txt}}
  report:
    uses: exec
    with:
      run: "cat $AXX_IN_0 $AXX_IN_1 > r.txt"
      inputs: ["\${{ steps.sum.outputs.s }}", "\${{ steps.labels.outputs.l }}"]
      outputs: {r: {path: r.txt}}
`;

async function run(dir: string, ...args: string[]): Promise<{code: number; out: string; err: string; outcomes: Record<string, string>}> {
  return runIn({}, dir, ...args);
}

/** `axx run p.yaml --json` with the given environment (what the CLI reads once and hands to the steps). */
async function runIn(env: Record<string, string>, dir: string, ...args: string[]): Promise<{code: number; out: string; err: string; outcomes: Record<string, string>}> {
  const io = captureIo(dir, env);
  const code = await runCli(['run', 'p.yaml', '--json', ...args], io);
  const outcomes: Record<string, string> = {};
  for (const line of io.stdoutText().split('\n').filter(Boolean)) {
    const event = JSON.parse(line) as {type: string; step?: {instance: string}; outcome?: string};
    if (event.type === 'step-end') outcomes[event.step!.instance] = event.outcome!;
  }
  return {code, out: io.stdoutText(), err: io.stderrText(), outcomes};
}

async function exportText(dir: string, artifact: string): Promise<string> {
  const io = captureIo(dir);
  expect(await runCli(['export', artifact, 'exported.txt'], io)).toBe(0);
  return readFileSync(join(dir, 'exported.txt'), 'utf8');
}

describe('axx run with exec steps', () => {
  it('changing one param re-runs only its downstream', async () => {
    const dir = tempProject({'p.yaml': chain});
    expect((await run(dir)).outcomes).toEqual({numbers: 'ran', labels: 'ran', sum: 'ran', report: 'ran'});
    expect(await exportText(dir, 'report.r')).toBe('6\nx\n');
    expect((await run(dir)).outcomes).toEqual({numbers: 'cached', labels: 'cached', sum: 'cached', report: 'cached'});
    const second = await run(dir, '-p', 'label=y');
    expect(second.outcomes).toEqual({numbers: 'cached', labels: 'ran', sum: 'cached', report: 'ran'});
    expect(await exportText(dir, 'report.r')).toBe('6\ny\n');
  });

  it('exec gets the variables it declares from the CLI\'s environment and re-runs when their values change', async () => {
    const dir = tempProject({'p.yaml': 'steps:\n  greet:\n    uses: exec\n    with:\n      run: \'echo "$GREETING|$UNDECLARED|$SEED" > g.txt\'\n      env: [GREETING]\n      vars: {SEED: "7"}\n      outputs: {g: {path: g.txt}}\n'});
    expect((await runIn({GREETING: 'hi', UNDECLARED: 'x'}, dir)).outcomes).toEqual({greet: 'ran'});
    expect(await exportText(dir, 'greet.g')).toBe('hi||7\n');
    expect((await runIn({GREETING: 'hi', UNDECLARED: 'y'}, dir)).outcomes).toEqual({greet: 'cached'});
    const changed = await runIn({GREETING: 'bye'}, dir, '--executor', 'child-process');
    expect(changed.outcomes).toEqual({greet: 'ran'});
    expect(changed.out).not.toContain('bye');
    expect(await exportText(dir, 'greet.g')).toBe('bye||7\n');
  });

  it('plan names the changed key part', async () => {
    const dir = tempProject({'p.yaml': chain});
    await run(dir);
    const io = captureIo(dir);
    expect(await runCli(['plan', 'p.yaml', '-p', 'count=4'], io)).toBe(0);
    const lines = io.stdoutText().split('\n');
    expect(lines.find((l) => l.includes('numbers'))).toMatch(/^run\s+numbers\s+with\.run: "seq '3' > n\.txt" → "seq '4' > n\.txt"/);
    expect(lines.find((l) => l.includes(' labels'))).toMatch(/^cached\s+labels/);
    expect(lines.find((l) => l.includes(' sum'))).toMatch(/^blocked\s+sum\s+waits for numbers/);
    // Another pipeline's step of the same name does not change what this pipeline's plan compares with.
    writeFileSync(join(dir, 'q.yaml'), chain.replace('count: 3', 'count: 5'));
    await runCli(['run', 'q.yaml'], captureIo(dir));
    const again = captureIo(dir);
    await runCli(['plan', 'p.yaml', '-p', 'count=4'], again);
    expect(again.stdoutText()).toContain(`with.run: "seq '3' > n.txt" → "seq '4' > n.txt"`);
  });

  it('an upstream that re-runs with identical bytes leaves downstream cached (early cutoff)', async () => {
    const dir = tempProject({'p.yaml': chain});
    await run(dir);
    const forced = await run(dir, '--force', 'numbers');
    expect(forced.outcomes).toEqual({numbers: 'ran', labels: 'cached', sum: 'cached', report: 'cached'});
    // A changed command producing the same bytes: also cut off.
    const same = await run(dir, '-p', 'count=03');
    expect(same.outcomes['numbers']).toBe('cached');
    writeFileSync(join(dir, 'p.yaml'), chain.replace('seq ${{ params.count }} > n.txt', 'seq 1 ${{ params.count }} > n.txt'));
    expect((await run(dir)).outcomes).toEqual({numbers: 'ran', labels: 'cached', sum: 'cached', report: 'cached'});
  });

  it('--only runs a step and what it needs; validate and dag describe the pipeline', async () => {
    const dir = tempProject({'p.yaml': chain});
    expect((await run(dir, '--only', 'sum')).outcomes).toEqual({numbers: 'ran', sum: 'ran'});
    const validate = captureIo(dir);
    expect(await runCli(['validate', 'p.yaml'], validate)).toBe(0);
    expect(validate.stdoutText()).toContain('ok (4 steps, 4 instances)');
    const dag = captureIo(dir);
    expect(await runCli(['dag', 'p.yaml', '--mermaid'], dag)).toBe(0);
    expect(dag.stdoutText()).toContain('numbers --> sum');
    expect(await runCli(['run', 'p.yaml', '--only', 'nope'], captureIo(dir))).toBe(2);
    expect(await runCli(['run', 'p.yaml', '-j', '0'], captureIo(dir))).toBe(2);
    const missing = captureIo(dir);
    expect(await runCli(['validate', 'missing.yaml'], missing)).toBe(2);
    expect(missing.stderrText()).toContain('error: pipeline file not found');
  });

  it('--params files and -p override params (-p wins); a bad override is a located error', async () => {
    const dir = tempProject({'p.yaml': chain, 'over.yaml': 'label: fromfile\ncount: 2\n', 'bad.yaml': 'count: 2\nlabl: z\n'});
    await run(dir, '--params', 'over.yaml', '-p', 'count=1');
    expect(await exportText(dir, 'report.r')).toBe('1\nfromfile\n');
    const io = captureIo(dir);
    expect(await runCli(['run', 'p.yaml', '--params', 'bad.yaml'], io)).toBe(2);
    expect(io.stderrText()).toContain('bad.yaml:2:1: error: --params: the pipeline has no param "labl"\n  hint: did you mean "label"?');
  });

  it('gc --keep-last 1 drops results only older runs used', async () => {
    const dir = tempProject({'p.yaml': chain});
    await run(dir, '-p', 'label=old');
    await run(dir, '-p', 'label=new');
    // gc spares what arrived within GC_CLOCK_MARGIN_MS of its start (a run may be publishing it): on a fast
    // machine both runs fit in that margin, so the old run's last blob would still count as recent.
    const settled = Date.now() + GC_CLOCK_MARGIN_MS + 20;
    while (Date.now() < settled) await new Promise((resolve) => setTimeout(resolve, settled - Date.now()));
    const gc = captureIo(dir);
    expect(await runCli(['gc', '--keep-last', '1', '--json'], gc)).toBe(0);
    const report = JSON.parse(gc.stdoutText());
    expect(report, gc.stdoutText()).toMatchObject({droppedResults: 2, removedBlobs: 2});
    expect((await run(dir, '-p', 'label=new')).outcomes['report']).toBe('cached');
    expect((await run(dir, '-p', 'label=old')).outcomes).toEqual({numbers: 'cached', labels: 'ran', sum: 'cached', report: 'ran'});
  });

  it('a failing command fails its step with the stderr tail, skips dependents and keeps going', async () => {
    const dir = tempProject({'p.yaml': chain.replace('paste -sd+ $AXX_IN_0 | bc > s.txt', 'echo boom >&2; exit 3')});
    const result = await run(dir);
    expect(result.code).toBe(1);
    expect(result.outcomes).toEqual({numbers: 'ran', labels: 'ran', sum: 'failed', report: 'skipped'});
    const failure = result.out.split('\n').map((l) => (l ? JSON.parse(l) : {})).find((e) => e.type === 'failure');
    expect(failure.failure.message).toContain('exited with code 3\nboom');
    expect(failure.failure.diagnostic.location.line).toBe(20);
    // Plain output ends with the command to resume.
    const io = captureIo(dir);
    expect(await runCli(['run', 'p.yaml'], io)).toBe(1);
    expect(io.stderrText()).toContain('re-run (finished steps stay cached):\n  axx run p.yaml');
  });

  it('--fail-fast stops scheduling after the first failure', async () => {
    const dir = tempProject({
      'p.yaml': `
steps:
  bad: {uses: exec, with: {run: "exit 1"}}
  later: {uses: exec, needs: [bad2], with: {run: "true"}}
  bad2: {uses: exec, with: {run: "sleep 0.3"}}
`,
    });
    const result = await run(dir, '--fail-fast', '-j', '1');
    expect(result.code).toBe(1);
    expect(result.outcomes['bad']).toBe('failed');
    expect(result.outcomes['later']).not.toBe('ran');
  });

  it('retries a flaky step with backoff', async () => {
    const dir = tempProject({
      'p.yaml': `
steps:
  flaky:
    uses: exec
    retries: 2
    with:
      run: "n=$(cat ../../../../../count 2>/dev/null || echo 0); echo $((n+1)) > ../../../../../count; [ $n -ge 1 ] && echo ok > o"
      outputs: {o: {path: o}}
`,
    });
    // The scratch dir is <project>/cache/cas/tmp/<owner>/<name>; the counter lives in the project dir.
    const result = await run(dir);
    expect(result.outcomes['flaky']).toBe('ran');
    expect(result.out).toContain('"type":"step-retry"');
    expect(readFileSync(join(dir, 'count'), 'utf8').trim()).toBe('2');
  });

  it('a missing declared output is a clear step error', async () => {
    const dir = tempProject({'p.yaml': 'steps:\n  a:\n    uses: exec\n    with: {run: "true", outputs: {o: {path: out/o.txt}}}\n'});
    const result = await run(dir);
    expect(result.code).toBe(1);
    expect(result.out).toContain('declared output \\"o\\" was not created');
  });

  it('matrix instances run separately and a downstream reference gets all their outputs in order', async () => {
    const dir = tempProject({
      'p.yaml': `
params: {mults: [m2, m1]}
steps:
  sens:
    uses: exec
    matrix: {layer: [fc1, fc2], mult: "\${{ params.mults }}"}
    with:
      run: "echo \${{ matrix.layer }}-\${{ matrix.mult }} > o"
      outputs: {o: {path: o}}
  pick:
    uses: exec
    matrix: {layer: [fc2], mult: [m1]}
    executor: child-process
    with:
      run: "cat $AXX_IN_0 > o"
      inputs: ["\${{ steps.sens.outputs.o }}"]
      outputs: {o: {path: o}}
  all:
    uses: exec
    with:
      run: "cat $AXX_INPUTS > o"
      inputs: ["\${{ steps.sens.outputs.o }}"]
      outputs: {o: {path: o}}
`,
    });
    const result = await run(dir);
    expect(result.code).toBe(0);
    expect(Object.keys(result.outcomes).sort()).toEqual(['all', 'pick[layer=fc2,mult=m1]', 'sens[layer=fc1,mult=m1]', 'sens[layer=fc1,mult=m2]', 'sens[layer=fc2,mult=m1]', 'sens[layer=fc2,mult=m2]']);
    expect(await exportText(dir, 'all.o')).toBe('fc1-m2\nfc1-m1\nfc2-m2\nfc2-m1\n');
    expect(await exportText(dir, 'pick[layer=fc2,mult=m1].o')).toBe('fc2-m1\n');
  });

  it('a crash of the step process (child-process executor) fails only that step', async () => {
    const dir = tempProject({
      'p.yaml': 'steps:\n  crash: {uses: exec, executor: child-process, with: {run: "kill -9 $PPID; sleep 5"}}\n  fine: {uses: exec, executor: child-process, with: {run: "echo ok > o", outputs: {o: {path: o}}}}\n',
    });
    const result = await run(dir);
    expect(result.code).toBe(1);
    expect(result.outcomes).toEqual({crash: 'failed', fine: 'ran'});
    expect(result.out).toContain('step process exited unexpectedly (signal SIGKILL)');
  });

  it('outputs in the store are read-only', async () => {
    const dir = tempProject({'p.yaml': chain});
    await run(dir);
    const io = captureIo(dir);
    await runCli(['show', 'report', '--json'], io);
    const shown = JSON.parse(io.stdoutText()) as {outputs: {r: {path: string}}};
    expect(statSync(shown.outputs.r.path).mode & 0o222).toBe(0);
  });

  it('a corrupt blob is found by cache verify and recomputed by the next run', async () => {
    const dir = tempProject({'p.yaml': chain});
    await run(dir);
    const io = captureIo(dir);
    await runCli(['show', 'sum', '--json'], io);
    const blob = (JSON.parse(io.stdoutText()) as {outputs: {s: {path: string}}}).outputs.s.path;
    chmodSync(blob, 0o644);
    writeFileSync(blob, '7\n');
    const verify = captureIo(dir);
    expect(await runCli(['cache', 'verify'], verify)).toBe(1);
    expect(verify.stdoutText()).toMatch(/1 corrupt, 1 results dropped/);
    const again = await run(dir);
    expect(again.outcomes).toEqual({numbers: 'cached', labels: 'cached', sum: 'ran', report: 'cached'});
    expect(await exportText(dir, 'sum.s')).toBe('6\n');
    expect(await runCli(['cache', 'verify'], captureIo(dir))).toBe(0);
  });

  it('an interrupt aborts running steps, marks the run interrupted and prints the resume command', async () => {
    // A duration no other process uses, to find the sleep if the interrupt left it running.
    const marker = `sleep 20.${process.pid}`;
    const dir = tempProject({'p.yaml': `steps:\n  slow: {uses: exec, with: {run: "${marker}"}}\n  quick: {uses: exec, with: {run: "true"}}\n`});
    const controller = new AbortController();
    const io = captureIo(dir, {}, controller.signal);
    const running = runCli(['run', 'p.yaml', '--fail-fast'], io);
    setTimeout(() => controller.abort(new Error('SIGINT')), 500);
    expect(await running).toBe(130);
    expect(await processesGone(marker), 'the interrupted step\'s command outlived the run').toBe(true);
    expect(io.stderrText()).toContain('interrupted; resume with:\n  axx run p.yaml --fail-fast');
    const runs = captureIo(dir);
    await runCli(['runs', '--json'], runs);
    expect((JSON.parse(runs.stdoutText()) as {status: string}[])[0]!.status).toBe('interrupted');
  });
});

describe('crash safety and concurrent runs (real processes)', () => {
  // The slow step holds until the test creates <project>/release (at most 60 s), so the tests
  // control its timing instead of guessing how long a loaded machine needs.
  const slowPipeline = `
steps:
  first:
    uses: exec
    with: {run: "echo one > a", outputs: {a: {path: a}}}
  slow:
    uses: exec
    with:
      run: "head -c 100000 /dev/zero > partial; touch ../../../../../started; for i in $(seq 600); do [ -f ../../../../../release ] && break; sleep 0.1; done; cat $AXX_IN_0 > b"
      inputs: ["\${{ steps.first.outputs.a }}"]
      outputs: {b: {path: b}}
`;

  async function waitFor(condition: () => boolean, what: string): Promise<void> {
    const until = Date.now() + 90_000;
    while (!condition()) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  const exists = (path: string) => (): boolean => {
    try {
      statSync(path);
      return true;
    } catch {
      return false;
    }
  };

  it('kill -9 mid-step, then axx run again: completes with identical outputs', async () => {
    const dir = tempProject({'p.yaml': slowPipeline});
    const child = spawnAxx(['run', 'p.yaml'], dir);
    await waitFor(exists(join(dir, 'started')), 'the slow step to start');
    child.kill('SIGKILL');
    await exited(child);
    writeFileSync(join(dir, 'release'), '');
    const io = captureIo(dir);
    expect(await runCli(['run', 'p.yaml'], io), io.stdoutText() + io.stderrText()).toBe(0);
    expect(io.stdoutText()).toMatch(/= first cached/);
    expect(io.stdoutText()).toMatch(/✓ slow ran/);
    expect(await exportText(dir, 'slow.b')).toBe('one\n');
    const runs = captureIo(dir);
    await runCli(['runs', '--json'], runs);
    expect((JSON.parse(runs.stdoutText()) as {status: string}[]).map((r) => r.status)).toEqual(['passed', 'interrupted']);
  });

  it('kill -9 of a run stops the commands its exec steps started', async () => {
    const marker = `axx-orphan-${process.pid}-${Date.now()}`;
    const dir = tempProject({
      'p.yaml': `
steps:
  long:
    uses: exec
    with:
      run: "sh -c 'sleep 600; : ${marker}' & touch ../../../../../started; wait"
      outputs: {done: {path: done}}
`,
    });
    const child = spawnAxx(['run', 'p.yaml'], dir);
    await waitFor(exists(join(dir, 'started')), 'the command to start');
    expect(await processesGone(marker, 0), 'the command runs').toBe(false);
    child.kill('SIGKILL');
    await exited(child);
    expect(await processesGone(marker, 30_000), 'the command outlived its run').toBe(true);
  });

  it('SIGTERM to a real axx run: exit 130, the run is recorded interrupted, the resume command is printed', async () => {
    const dir = tempProject({'p.yaml': slowPipeline});
    const child = spawnAxx(['run', 'p.yaml', '-j', '2'], dir);
    await waitFor(exists(join(dir, 'started')), 'the slow step to start');
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(130);
    writeFileSync(join(dir, 'release'), '');
    expect(child.output()).toContain('! slow interrupted');
    // The resume command repeats how axx was started (here `node <path>/bin/axx.js`, axx not being on PATH).
    expect(child.output()).toMatch(/interrupted; resume with:\n  node \S+\/bin\/axx\.js run p\.yaml -j 2\n/);
    const runs = captureIo(dir);
    await runCli(['runs', '--json'], runs);
    expect((JSON.parse(runs.stdoutText()) as {status: string}[])[0]!.status).toBe('interrupted');
  });

  it('a second run of an overlapping pipeline waits for the step the first is computing and reuses it', async () => {
    const dir = tempProject({'p.yaml': slowPipeline, 'q.yaml': slowPipeline});
    const first = spawnAxx(['run', 'p.yaml'], dir);
    await waitFor(exists(join(dir, 'started')), 'the slow step to start');
    const second = captureIo(dir);
    const secondRun = runCli(['run', 'q.yaml'], second);
    await waitFor(() => second.stderrText().includes('is computing the same step'), 'the second run to wait');
    writeFileSync(join(dir, 'release'), '');
    expect(await secondRun).toBe(0);
    expect(await exited(first)).toBe(0);
    expect(second.stderrText()).toMatch(/waiting: run \S+ \(pid \d+\) is computing the same step/);
    expect(second.stdoutText()).toMatch(/= slow cached/);
    expect(first.output()).toMatch(/✓ slow ran/);
  });
});
