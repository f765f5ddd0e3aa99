import {describe, expect, it} from 'vitest';
import {wholeModelPower} from './whole-model-power.js';

describe('wholeModelPower', () => {
  it('counts the layers left exact at exact power', () => {
    // 900 approximated MACs at 0.35 and 100 exact ones: 0.35·0.9 + 0.1 = 0.415, not 0.35.
    const power = wholeModelPower([{macs: 600, relativePower: 0.3}, {macs: 300, relativePower: 0.45}], 1000)!;
    expect(power.relativePower).toBeCloseTo(0.415, 12);
    expect(power.savingPercent).toBeCloseTo(58.5, 10);
    expect(power).toMatchObject({totalMacs: 1000, approximatedMacs: 900});
  });

  it('refuses layers that do not fit the total', () => {
    expect(wholeModelPower([{macs: 10, relativePower: 0.5}], 5)).toBeUndefined();
    expect(wholeModelPower([], 0)).toBeUndefined();
  });
});
