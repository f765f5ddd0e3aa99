// Every generated family, signed and unsigned, at several parameters: the RTL, simulated over all
// 65,536 operand pairs with Icarus Verilog, must equal the multiplier library's table exactly.
import {describe, expect, test} from 'vitest';
import {resolveMultiplier} from '../../approx/library.js';
import type {Multiplier} from '../../approx/multiplier.js';
import {missingTools, testTools} from '../../../test/support/hw-test-tools.js';
import {simulateTable} from '../simulate.js';
import {supportedFamilies} from './families.js';
import {multiplierRtl} from './multiplier-rtl.js';

// One or two parameter sets per family (edges: correction with k = 8, which reaches the sign bits).
const NAMES = [
  'trunc8_k4', 'trunc8_k3c', 'trunc8_k8c', 'bam8_h3_v9', 'perf8_p5_n3',
  'otrunc8_k2', 'oround8_k3', 'drum8_k3', 'mitchell8',
].flatMap((name) => [name.replace('8', '8s'), name.replace('8', '8u')]);

/** First differing entry, as a readable string, or undefined when the tables agree. */
function firstDifference(simulated: Int32Array, multiplier: Multiplier): string | undefined {
  for (let index = 0; index < 65536; index++) {
    if (simulated[index] !== multiplier.table[index]) {
      return `a=${index >> 8}, b=${index & 255}: RTL ${simulated[index]}, table ${multiplier.table[index]}`;
    }
  }
  return undefined;
}

test('the names cover every family axx generates RTL for', () => {
  const covered = new Set(NAMES.map((name) => resolveMultiplier(name).provenance.family?.name));
  expect([...covered].sort()).toEqual(supportedFamilies().sort());
});

describe.skipIf(missingTools('iverilog', 'vvp'))('generated RTL equals the library table (exhaustive iverilog simulation)', () => {
  test.each(NAMES)('%s', async (name) => {
    const multiplier = resolveMultiplier(name);
    const rtl = await multiplierRtl(multiplier);
    expect(firstDifference(await simulateTable(rtl, testTools), multiplier)).toBeUndefined();
  });
});

describe.skipIf(missingTools('iverilog', 'vvp'))('sign-magnitude wrapper around an unsigned circuit', () => {
  test('sm8s_drum8u_k4 (the library wrapper) behaves as drum8s_k4, and so does its RTL', async () => {
    const wrapped = resolveMultiplier('sm8s_drum8u_k4');
    expect(firstDifference(wrapped.table, resolveMultiplier('drum8s_k4'))).toBeUndefined();
    const rtl = await multiplierRtl(wrapped);
    expect(rtl.source).toContain('module axx_sm8s_drum8u_k4_core');
    expect(firstDifference(await simulateTable(rtl, testTools), wrapped)).toBeUndefined();
  });
});
