import {describe, expect, test} from 'vitest';
import {missingTools, testTools} from '../../test/support/hw-test-tools.js';
import {MemoryMemo} from '../../test/support/memory-memo.js';
import {analysePower} from './opensta.js';
import {exactMultiplierRtl} from './verilog/matrix-multiplier.js';
import {synthesize} from './yosys.js';

const memo = new MemoryMemo();

describe.skipIf(missingTools('yosys', 'liberty'))('synthesize (Yosys)', () => {
  test('maps the exact 8x8 multiplier to CMOS gates and osu018 cells, and memoises the result', async () => {
    const rtl = exactMultiplierRtl('axx_exact8u', false);
    const first = await synthesize(rtl, testTools, {memo});
    // An 8x8 array multiplier: a few hundred gates, a few thousand transistors.
    expect(first.transistors).toBeGreaterThan(1500);
    expect(first.transistors).toBeLessThan(5000);
    expect(first.cellMapping?.areaUm2).toBeGreaterThan(5000);
    expect(first.cellMapping?.netlist).toContain('module axx_exact8u');
    expect([...memo.entries.keys()]).toEqual([expect.stringMatching(/^hw\/yosys-synthesis:[0-9a-f]{64}$/)]);
    expect(await synthesize(rtl, testTools, {memo})).toEqual(first);
    // The second answer comes from the memo: a marked entry is what it returns.
    const [key] = memo.entries.keys();
    await memo.set(key!, {...first, transistors: 1} as never);
    expect((await synthesize(rtl, testTools, {memo})).transistors).toBe(1);
  });

  test('reports a Yosys failure with its own message', async () => {
    const broken = {name: 'axx_broken', source: 'module axx_broken(input a, output y); assign y = ; endmodule\n', outWidth: 1, signed: false};
    await expect(synthesize(broken, testTools)).rejects.toThrow(/yosys .*failed[\s\S]*syntax error/);
  });
});

describe.skipIf(missingTools('yosys', 'liberty', 'sta'))('analysePower (OpenSTA)', () => {
  test('power scales with the clock and falls when operand bits switch less', async () => {
    const rtl = exactMultiplierRtl('axx_exact8s', true);
    const netlist = (await synthesize(rtl, testTools, {memo})).cellMapping?.netlist ?? '';
    const at100 = await analysePower(netlist, rtl.name, testTools, {clockMHz: 100});
    const at200 = await analysePower(netlist, rtl.name, testTools, {clockMHz: 200});
    expect(at100.totalMw).toBeGreaterThan(0.5);
    expect(at100.totalMw).toBeLessThan(10);
    expect(at200.totalMw / at100.totalMw).toBeCloseTo(2, 1);
    expect(at100.criticalPathNs).toBeGreaterThan(0.5);
    const quietHighBits: Record<string, {toggleRate: number; duty: number}> = {};
    for (let bit = 4; bit < 8; bit++) quietHighBits[`a[${bit}]`] = {toggleRate: 0.01, duty: 0};
    const quiet = await analysePower(netlist, rtl.name, testTools, {clockMHz: 100, inputActivity: quietHighBits});
    expect(quiet.totalMw).toBeLessThan(at100.totalMw * 0.8);
  });
});
