/**
 * Points no other point beats on both axes (higher accuracy, lower relative power), sorted by power
 * ascending. Of points equal on both axes the first one stays.
 */
export function paretoFront<T extends {accuracy: number; relativePower: number}>(points: readonly T[]): T[] {
  const sorted = points
    .map((point, index) => ({point, index}))
    .sort((a, b) => a.point.relativePower - b.point.relativePower || b.point.accuracy - a.point.accuracy || a.index - b.index);
  const front: T[] = [];
  let bestAccuracy = -Infinity;
  for (const {point} of sorted) {
    if (point.accuracy > bestAccuracy) {
      front.push(point);
      bestAccuracy = point.accuracy;
    }
  }
  return front;
}

/** The feasible point with the lowest power; ties go to higher accuracy, then to the earlier point. */
export function bestFeasible<T extends {accuracy: number; relativePower: number; feasible: boolean}>(points: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const point of points) {
    if (!point.feasible) continue;
    if (best === undefined || point.relativePower < best.relativePower || (point.relativePower === best.relativePower && point.accuracy > best.accuracy)) best = point;
  }
  return best;
}
