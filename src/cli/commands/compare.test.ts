// axx compare on real runs: a synthesize → report pipeline run with two parameter values, then again
// from cache, compared through the CLI in-process.
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {captureIo, removeProjects, tempProject} from '../../../test/e2e/engine-helpers.js';
import {runCli} from '../main.js';

const pipeline = `
name: cost
params:
  mult: mul8s_1L2H
steps:
  cost:
    uses: synthesize
    with:
      manifest:
        layers:
          - {layer: fc1, macs: 3000, multiplier: "\${{ params.mult }}"}
          - {layer: fc2, macs: 1000, multiplier: mul8s_1KV8}
      figures: tabulated
  report:
    uses: report
    with:
      title: "cost of \${{ params.mult }}"
      synthesis: "\${{ steps.cost.outputs.summary }}"
`;

afterAll(removeProjects);

/** A temp project holding the pipeline, its synthesis memo inside the project too. */
function project(): string {
  const dir = tempProject({});
  writeFileSync(join(dir, 'p.yaml'), pipeline);
  return dir;
}

async function axx(dir: string, ...args: string[]): Promise<{code: number; out: string; err: string}> {
  const io = captureIo(dir);
  const code = await runCli(args, io);
  return {code, out: io.stdoutText(), err: io.stderrText()};
}

/** The run id printed by `axx run` ("run <id> passed …"). */
function runId(out: string): string {
  return /run (\S+) passed/.exec(out)![1]!;
}

describe('axx compare', () => {
  it('shows params and metrics of runs side by side, as text, JSON and CSV', async () => {
    const dir = project();
    const first = await axx(dir, 'run', 'p.yaml');
    expect(first.code, first.err).toBe(0);
    const second = await axx(dir, 'run', 'p.yaml', '-p', 'mult=mul8s_1KX2');
    expect(second.code, second.err).toBe(0);
    const third = await axx(dir, 'run', 'p.yaml');
    expect(third.out).toContain('2 cached');
    const [a, b, c] = [runId(first.out), runId(second.out), runId(third.out)];

    const text = await axx(dir, 'compare', a, b);
    expect(text.code, text.err).toBe(0);
    expect(text.out.split('\n')[0]).toMatch(new RegExp(`^\\s+${a}\\s+${b}$`));
    expect(text.out).toMatch(/\n\* param cost\.manifest\.layers\[0\]\.multiplier\s+mul8s_1L2H\s+mul8s_1KX2\n/);
    expect(text.out).toMatch(/\n {2}param cost\.figures\s+tabulated\s+tabulated\n/);
    expect(text.out).toMatch(/\n\* metric cost\.savingPercent\s+[\d.]+\s+[\d.]+\n/);

    // The cached run shows the metrics of the run that computed its steps.
    const json = await axx(dir, 'compare', a.slice(0, -2), c, '--json');
    const parsed = JSON.parse(json.out) as {runs: {id: string}[]; rows: {kind: string; key: string; values: unknown[]; differs: boolean}[]};
    expect(parsed.runs.map((r) => r.id)).toEqual([a, c]);
    const saving = parsed.rows.find((r) => r.key === 'cost.savingPercent')!;
    expect(saving.values[0]).toBeGreaterThan(0);
    expect(saving).toMatchObject({kind: 'metric', values: [saving.values[0], saving.values[0]], differs: false});
    expect(parsed.rows.find((r) => r.key === 'cost.state')!.values).toEqual(['ran', 'cached']);

    // Default: the two most recent runs; --diff keeps only differing rows (and the run rows).
    const csv = await axx(dir, 'compare', '--csv', '--diff');
    const lines = csv.out.trimEnd().split('\r\n');
    expect(lines[0]).toBe(`kind,key,differs,${b},${c}`);
    expect(lines.filter((l) => l.startsWith('param,'))).toEqual(['param,params.mult,true,mul8s_1KX2,mul8s_1L2H', `param,cost.manifest.layers[0].multiplier,true,mul8s_1KX2,mul8s_1L2H`, 'param,report.title,true,cost of mul8s_1KX2,cost of mul8s_1L2H']);

    // The report step's page is in the store.
    const exported = await axx(dir, 'export', 'report.html', 'report.html');
    expect(exported.code, exported.err).toBe(0);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('<h2>Accelerator</h2>');
  });

  it('says what to do for unknown or ambiguous run ids and conflicting formats', async () => {
    const dir = project();
    const none = await axx(dir, 'compare');
    expect(none).toMatchObject({code: 2});
    expect(none.err).toContain('no runs yet; axx run <pipeline.yaml> makes one');
    const unknown = await axx(dir, 'compare', 'nope');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('no run "nope"; axx runs lists runs');
    const both = await axx(dir, 'compare', '--json', '--csv');
    expect(both.code).toBe(2);
    expect(both.err).toContain('give --json or --csv, not both');
  });
});
