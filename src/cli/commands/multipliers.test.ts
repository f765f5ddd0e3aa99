import {PassThrough} from 'node:stream';
import {describe, expect, it} from 'vitest';
import type {CliIo} from '../command.js';
import {UsageError} from '../command.js';
import {multiplierCommand} from './multiplier.js';
import {multipliersCommand} from './multipliers.js';

async function runCommand(command: typeof multipliersCommand, args: string[]): Promise<{code: number; out: string}> {
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  const io: CliIo = {stdout, stderr: new PassThrough(), env: {}, cwd: process.cwd(), signal: new AbortController().signal, argv0: 'axx'};
  const code = await command.run(args, io);
  return {code, out: Buffer.concat(chunks).toString('utf8')};
}

describe('axx multipliers', () => {
  it('lists the library sorted by power, circuits without figures last', async () => {
    const {code, out} = await runCommand(multipliersCommand, ['--sort', 'power']);
    expect(code).toBe(0);
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(/^name\s+kind\s+source\s+power mW\s+area um2\s+MAE%\s+WCE%\s+EP%\s+bias\s+rank$/);
    expect(lines[1]).toMatch(/^mul8u_E9R /); // 0.000 mW
    expect(lines.at(-1)).toMatch(/generated:/);
    expect(out).toMatch(/mul8s_1L2H\s+signed\s+evoapprox\s+0\.301\s+558\.9\s+0\.0814\s+0\.389\s+74\.61\s+0\.8\s+1\n/);
  });

  it('prints JSON and rejects unknown sort keys', async () => {
    const {out} = await runCommand(multipliersCommand, ['--json', '--sort', 'rank']);
    const rows = JSON.parse(out) as {name: string; rank: number}[];
    expect(rows.length).toBeGreaterThan(49);
    expect(rows.map((r) => r.rank)).toEqual([...rows.map((r) => r.rank)].sort((a, b) => a - b));
    await expect(runCommand(multipliersCommand, ['--sort', 'speed'])).rejects.toThrow(/--sort must be one of power, mae, rank, got "speed"/);
  });
});

describe('axx multiplier show', () => {
  it('shows provenance, figures, metrics and a heatmap that is blank for the exact circuit', async () => {
    const {out} = await runCommand(multiplierCommand, ['show', 'exact8u']);
    expect(out).toMatch(/^mul8u_1JFF {2}\(unsigned 8×8, exact\)/);
    expect(out).toMatch(/rank: 1 /);
    expect(out).toMatch(/MAE 0 \(0%\)/);
    const heat = out.split('\n').filter((l) => /^\s+\d+ \|/.test(l));
    expect(heat).toHaveLength(16);
    expect(heat.every((l) => /\| {32}\|$/.test(l))).toBe(true);
  });

  it('shades where a truncated multiplier errs most (large operands)', async () => {
    const {out} = await runCommand(multiplierCommand, ['show', 'perf8u_p0_n2']);
    expect(out).toMatch(/family: perforated \{"p":0,"n":2\}/);
    const heat = out.split('\n').filter((l) => /^\s+\d+ \|/.test(l));
    expect(heat[0]).toMatch(/^\s+0 \|[ .]{2}/); // small operands: (almost) no error
    expect(heat[15]).toMatch(/@@\|$/); // a, b large: worst
  });

  it('turns unknown names into usage errors with suggestions', async () => {
    await expect(runCommand(multiplierCommand, ['show', 'mul8s_1L2X'])).rejects.toThrow(UsageError);
    await expect(runCommand(multiplierCommand, ['show', 'mul8s_1L2X'])).rejects.toThrow(/did you mean .*"mul8s_1L2H"/);
    await expect(runCommand(multiplierCommand, ['list'])).rejects.toThrow(/unknown subcommand "list"/);
  });
});
