import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest';
import {coalesce} from './coalesce.js';

describe('coalesce', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('reports the first change at once, a burst once at the end of the interval, and a settled state at once', () => {
    let state = 0;
    let settled = false;
    const seen: number[] = [];
    const changed = coalesce(() => seen.push(state), 250, () => settled);
    state = 1;
    changed();
    for (state = 2; state <= 40; state++) changed();
    state = 40;
    expect(seen).toEqual([1]);
    vi.advanceTimersByTime(250);
    expect(seen).toEqual([1, 40]);
    state = 41;
    changed();
    settled = true;
    state = 42;
    changed();
    // The settled report went out at once and cancelled the pending one.
    expect(seen).toEqual([1, 40, 42]);
    vi.advanceTimersByTime(1000);
    expect(seen).toEqual([1, 40, 42]);
  });
});
