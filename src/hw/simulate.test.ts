// simulateTable is async: the simulator runs beside the event loop (the dashboard keeps drawing, abort
// works) rather than in a blocking spawnSync of up to two minutes.
import {describe, expect, test} from 'vitest';
import {missingTools, testTools} from '../../test/support/hw-test-tools.js';
import {simulateTable} from './simulate.js';
import {exactMultiplierRtl} from './verilog/matrix-multiplier.js';

describe.skipIf(missingTools('iverilog', 'vvp'))('simulateTable', () => {
  test('simulates every operand pair of the exact multiplier', async () => {
    const table = await simulateTable(exactMultiplierRtl('axx_exact8s', true), testTools);
    expect(table[3 * 256 + 5]).toBe(15);
    expect(table[0xff * 256 + 0x02]).toBe(-2);
  });

  test('yields to the event loop while simulating, and stops when aborted', async () => {
    const controller = new AbortController();
    const pending = simulateTable(exactMultiplierRtl('axx_exact8s', true), testTools, controller.signal);
    // Runs only once the event loop is free: a blocking simulation would finish first.
    setImmediate(() => controller.abort(new Error('stopped by the test')));
    await expect(pending).rejects.toThrow('stopped by the test');
  });
});
