// Coalesces a burst of state changes into at most one report per interval, so a stream of events
// (task counts changing three times per evaluation) reaches its readers at a rate they can use.

/**
 * Returns `changed()`: call it after every change. `report` runs at once when `interval` ms have passed
 * since the last report or when `settled()` says the state is final, otherwise once at the end of the
 * interval with the state as it is then. A settled state is always reported and cancels a pending one.
 */
export function coalesce(report: () => void, interval: number, settled: () => boolean, clock: () => number = Date.now): () => void {
  let last = -Infinity;
  let pending: ReturnType<typeof setTimeout> | undefined;
  const fire = (): void => {
    if (pending !== undefined) clearTimeout(pending);
    pending = undefined;
    last = clock();
    report();
  };
  return () => {
    if (settled() || clock() - last >= interval) fire();
    else pending ??= setTimeout(fire, interval - (clock() - last));
  };
}
