// Real synthesis of the generated truncation family: cost must fall monotonically as more columns go.
import {describe, expect, test} from 'vitest';
import {resolveMultiplier} from '../approx/library.js';
import {missingTools, testTools} from '../../test/support/hw-test-tools.js';
import {MemoryMemo} from '../../test/support/memory-memo.js';
import {multiplierRtl} from './verilog/multiplier-rtl.js';
import {synthesize} from './yosys.js';

const memo = new MemoryMemo();

describe.skipIf(missingTools('yosys', 'liberty'))('truncated multipliers under Yosys + osu018', () => {
  for (const signed of [false, true]) {
    test(`${signed ? 'signed' : 'unsigned'}: transistors and area fall strictly with k`, async () => {
      // k = 0 is the exact multiplier.
      const ks = [0, 2, 4, 6, 8];
      const results = [];
      for (const k of ks) {
        const kind = signed ? 's' : 'u';
        const rtl = await multiplierRtl(resolveMultiplier(k === 0 ? `exact8${kind}` : `trunc8${kind}_k${k}`));
        results.push(await synthesize(rtl, testTools, {memo}));
      }
      const transistors = results.map((r) => r.transistors);
      const areas = results.map((r) => r.cellMapping?.areaUm2 ?? Number.NaN);
      console.log(`trunc8${signed ? 's' : 'u'} k=${ks.join('/')}: transistors ${transistors.join('/')}, osu018 area ${areas.join('/')} um^2`);
      for (let i = 1; i < ks.length; i++) {
        expect(transistors[i]).toBeLessThan(transistors[i - 1]!);
        expect(areas[i]).toBeLessThan(areas[i - 1]!);
      }
    });
  }
});
