import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, test} from 'vitest';
import {missingTools, testTools} from '../../../test/support/hw-test-tools.js';
import {simulateTable} from '../simulate.js';
import {userNetlistRtl} from './user-netlist.js';

const fixture = new URL('../../../test/fixtures/hw/mul8u_handmade.v', import.meta.url).pathname;

describe.skipIf(missingTools('iverilog', 'vvp'))('user netlists', () => {
  test('an EvoApprox-style netlist is wrapped to the a/b/y convention and simulates to its behaviour', async () => {
    const rtl = await userNetlistRtl('axx_mul8u_handmade', 'mul8u_handmade', false, fixture);
    const table = await simulateTable(rtl, testTools);
    for (const [a, b] of [[0, 0], [3, 5], [255, 255], [17, 200]] as const) expect(table[a * 256 + b]).toBe((a * b) & ~3);
  });
});

test('a netlist whose ports do not fit is rejected with what was found', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'axx-netlist-test-'));
  try {
    const path = join(dir, 'adder.v');
    await writeFile(path, 'module add8(input [7:0] x, input [7:0] y, output [8:0] s); assign s = x + y; endmodule\n');
    await expect(userNetlistRtl('axx_add8', 'mul8u_X', false, path)).rejects.toThrow(/two 8-bit inputs and one output of 16 to 31 bits \(found: input \[8\] x, input \[8\] y, output \[9\] s\)/);
    await expect(userNetlistRtl('axx_none', 'mul8u_X', false, join(dir, 'missing.v'))).rejects.toThrow(/cannot read .*missing\.v/);
  } finally {
    await rm(dir, {recursive: true, force: true});
  }
});
