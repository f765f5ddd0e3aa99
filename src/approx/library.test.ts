import {describe, expect, it} from 'vitest';
import {listMultipliers, resolveMultiplier, UnknownMultiplierError} from './library.js';
import {exactTable, multiplierId} from './multiplier.js';

describe('multiplier library', () => {
  it('holds the 49 EvoApprox circuits with their 45 nm figures', () => {
    const library = listMultipliers().filter((m) => m.provenance.source === 'evoapprox' || m.provenance.source === 'exact');
    expect(library).toHaveLength(49);
    const m = resolveMultiplier('mul8s_1L2H');
    expect(m.signed).toBe(true);
    expect(m.hardware.powerMw).toBeCloseTo(0.301);
    expect(m.provenance.source).toBe('evoapprox');
  });

  it('resolves the exact circuits and their aliases to exact product tables', () => {
    expect(resolveMultiplier('exact8s').table).toEqual(exactTable(true));
    expect(resolveMultiplier('mul8u_1JFF').table).toEqual(exactTable(false));
    expect(resolveMultiplier('exact8s').provenance.source).toBe('exact');
  });

  it('reads signed tables as two’s complement raw-byte indexed', () => {
    const t = resolveMultiplier('mul8s_1KV8').table;
    expect(t[0xff * 256 + 0x02]).toBe(-2); // -1 × 2
    expect(t[0x80 * 256 + 0x80]).toBe(16384); // -128 × -128
  });

  it('identifies a multiplier by content, not by name', () => {
    const m = resolveMultiplier('exact8s');
    expect(m.id).toBe(multiplierId(true, exactTable(true)));
    expect(m.id).not.toBe(multiplierId(false, exactTable(true)));
  });

  it('rejects unknown names with suggestions', () => {
    expect(() => resolveMultiplier('mul8s_1L2X')).toThrow(UnknownMultiplierError);
    expect(() => resolveMultiplier('mul8s_1L2X')).toThrow(/did you mean .*"mul8s_1L2H"/);
  });
});
