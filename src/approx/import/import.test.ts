import {spawnSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {resolveMultiplier} from '../library.js';
import {exactTable} from '../multiplier.js';
import {importTableFile} from './table-file.js';
import {importVerilog} from './verilog.js';

const dir = mkdtempSync(join(tmpdir(), 'axx-import-test-'));
afterAll(() => rmSync(dir, {recursive: true, force: true}));
const evoApproxFile = (name: string): string => new URL(`../../../assets/evoapprox/${name}.bin`, import.meta.url).pathname;
const fixture = (name: string): string => new URL(`../../../test/fixtures/verilog/${name}`, import.meta.url).pathname;

function writeTemp(name: string, content: string | Uint8Array): string {
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
}

describe('table file import', () => {
  it('reads 16-bit files and detects the operand kind', () => {
    const signed = importTableFile(evoApproxFile('mul8s_1L2H'));
    expect(signed).toMatchObject({name: 'mul8s_1L2H', signed: true, provenance: {source: 'imported'}});
    expect(signed.id).toBe(resolveMultiplier('mul8s_1L2H').id); // same content, same identity
    const unsigned = importTableFile(evoApproxFile('mul8u_2AC'));
    expect(unsigned.signed).toBe(false);
    expect(unsigned.table).toEqual(resolveMultiplier('mul8u_2AC').table);
  });

  it('reads int32 and text tables', () => {
    const exact = exactTable(true);
    const int32 = writeTemp('exact.bin', new Uint8Array(exact.buffer.slice(0)));
    expect(importTableFile(int32)).toMatchObject({signed: true, id: resolveMultiplier('exact8s').id});
    const rows = Array.from({length: 256}, (_, a) => Array.from(exact.subarray(a * 256, a * 256 + 256)).join(', '));
    const text = writeTemp('exact.csv', rows.join('\n') + '\n');
    expect(importTableFile(text, {name: 'mine'})).toMatchObject({name: 'mine', signed: true, id: resolveMultiplier('exact8s').id});
  });

  it('honours an explicit word type and operand kind', () => {
    expect(importTableFile(evoApproxFile('mul8u_2AC'), {type: 'uint16'}).signed).toBe(false);
    expect(importTableFile(evoApproxFile('mul8s_1L2H'), {signed: true}).signed).toBe(true);
    expect(() => importTableFile(evoApproxFile('mul8s_1L2H'), {type: 'uint16', signed: true})).toThrow(/type uint16 holds unsigned results/);
  });

  it('rejects wrong sizes and non-integer entries with the file and place', () => {
    const short = writeTemp('short.bin', new Uint8Array(1000).fill(200));
    expect(() => importTableFile(short)).toThrow(/short\.bin: 1000 bytes is not a 256×256 table: expected 131072 .* or 262144/);
    const fractional = writeTemp('frac.txt', '1 2 3\n4 1.5 6\n');
    expect(() => importTableFile(fractional)).toThrow(/frac\.txt: line 2: entry "1\.5" is not an integer/);
    const few = writeTemp('few.txt', '1 2 3\n');
    expect(() => importTableFile(few)).toThrow(/few\.txt: 3 entries; a 256×256 table has 65536/);
    expect(() => importTableFile(evoApproxFile('mul8s_1L2H'), {type: 'int32'})).toThrow(/int32 table needs 262144 bytes .* found 131072/);
  });

  it('is reachable through resolveMultiplier by path or file: prefix', () => {
    const copy = writeTemp('copy.bin', readFileSync(evoApproxFile('mul8s_1KX2')));
    expect(resolveMultiplier(copy)).toMatchObject({name: copy, id: resolveMultiplier('mul8s_1KX2').id});
    expect(resolveMultiplier(`file:${copy}`).id).toBe(resolveMultiplier('mul8s_1KX2').id);
    expect(() => resolveMultiplier(join(dir, 'missing.bin'))).toThrow(/no such file ".*missing\.bin"/);
  });
});

const hasIverilog = spawnSync('iverilog', ['-V'], {encoding: 'utf8'}).error === undefined;
if (!hasIverilog) console.warn('Verilog import tests skipped: iverilog is not installed (apt-get install iverilog)');

describe.skipIf(!hasIverilog)('Verilog import (exhaustive iverilog simulation)', () => {
  it('a hand-written exact unsigned array multiplier (non-ANSI ports A, B, O) yields the exact table', () => {
    const m = importVerilog(fixture('exact_mul8u.v'));
    expect(m).toMatchObject({name: 'exact_mul8u', signed: false, id: resolveMultiplier('exact8u').id});
  });

  it('a hand-written Baugh-Wooley signed multiplier (ANSI ports, helper module) yields the exact signed table', () => {
    const m = resolveMultiplier(fixture('exact_mul8s.v'));
    expect(m).toMatchObject({signed: true, id: resolveMultiplier('exact8s').id, provenance: {source: 'imported'}});
    expect(resolveMultiplier(`${fixture('exact_mul8s.v')}#exact_mul8s`).id).toBe(m.id);
    expect(() => resolveMultiplier(`${fixture('exact_mul8s.v')}#bw_row`)).toThrow(/module bw_row is not an 8×8 multiplier/);
  });

  it('rejects files without a matching module and names the module it looked at', () => {
    expect(() => importVerilog(fixture('not_a_multiplier.v'))).toThrow(/not_a_multiplier\.v: no module with two 8-bit inputs and one 16\.\.31-bit output \(modules: add8\); name the module \(path\.v#module\)/);
    expect(() => importVerilog(fixture('not_a_multiplier.v'), {module: 'add8'})).toThrow(
      /module add8 is not an 8×8 multiplier: needs two 8-bit inputs and one 16\.\.31-bit output, has input \[8\] a, input \[8\] b, output \[9\] s/,
    );
    expect(() => importVerilog(fixture('exact_mul8s.v'), {module: 'mul8s_1L2H'})).toThrow(/no module "mul8s_1L2H" \(modules: bw_row, exact_mul8s\)/);
    expect(() => importVerilog(fixture('exact_mul8u.v'), {ports: {a: 'A', b: 'B', y: 'Y'}})).toThrow(/module exact_mul8u has no port "Y" \(ports: A, B, O\)/);
    expect(() => importVerilog(fixture('not_a_multiplier.v'), {module: 'add8', ports: {a: 'a', b: 'b', y: 's'}})).toThrow(/output s is 9 bits wide; an 8×8 product needs 16\.\.31/);
  });

  it('reports compile errors from iverilog', () => {
    const broken = writeTemp('broken.v', 'module broken(input [7:0] a, input [7:0] b, output [15:0] y);\n  assign y = a * ;\nendmodule\n');
    expect(() => importVerilog(broken)).toThrow(/broken\.v: iverilog exited with \d+:[\s\S]*syntax error/);
  });
});
