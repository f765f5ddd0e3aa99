// Failures a user can meet (a tool whose output this axx cannot read, a multiplier left out of the
// costed candidates) are HwErrors, which steps map to step errors by type; no tools needed.
import {describe, expect, it} from 'vitest';
import {resolveMultiplier} from '../approx/library.js';
import {measuredSource, tabulatedFigures} from './figures.js';
import {HwError} from './hw-error.js';
import {parsePowerReport} from './opensta.js';
import {yosysStatistic} from './yosys.js';

describe('user-reachable hardware failures are HwErrors', () => {
  it('a Yosys report without the statistic', () => {
    expect(yosysStatistic('Number of cells:   42\n', /Number of cells:\s+(\d+)/, 'mul')).toBe(42);
    expect(() => yosysStatistic('ERROR: no such module\n', /Number of cells:\s+(\d+)/, 'mul')).toThrow(HwError);
  });

  it('an OpenSTA report without power or timing', () => {
    expect(() => parsePowerReport('Error: cannot read liberty\n', 'mul', 'OpenSTA 2.5', 'nangate45', 100)).toThrow(HwError);
  });

  it('a multiplier the measured figures do not cover', () => {
    const exact = tabulatedFigures(resolveMultiplier('exact8u'));
    const source = measuredSource('synthesis', new Map(), {signed: exact, unsigned: exact});
    expect(() => source.figures(resolveMultiplier('trunc8u_k2'))).toThrow(/trunc8u_k2 was not costed by synthesis; include it in the candidates/);
    expect(() => source.figures(resolveMultiplier('trunc8u_k2'))).toThrow(HwError);
  });
});
