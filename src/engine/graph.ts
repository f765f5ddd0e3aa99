// Pure graph utilities over string node ids: stable topological order and cycle finding.

/** Kahn's algorithm; ties keep the input order so plans and runs are deterministic. Nodes in cycles are left out. */
export function topologicalOrder(nodes: readonly string[], deps: ReadonlyMap<string, readonly string[]>): string[] {
  const indegree = new Map<string, number>(nodes.map((n) => [n, 0]));
  const dependents = new Map<string, string[]>();
  for (const node of nodes) {
    for (const dep of deps.get(node) ?? []) {
      if (!indegree.has(dep)) continue;
      indegree.set(node, indegree.get(node)! + 1);
      dependents.set(dep, [...(dependents.get(dep) ?? []), node]);
    }
  }
  const position = new Map(nodes.map((n, i) => [n, i]));
  const ready = nodes.filter((n) => indegree.get(n) === 0);
  const order: string[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => position.get(a)! - position.get(b)!);
    const node = ready.shift()!;
    order.push(node);
    for (const next of dependents.get(node) ?? []) {
      const left = indegree.get(next)! - 1;
      indegree.set(next, left);
      if (left === 0) ready.push(next);
    }
  }
  return order;
}

/** Each elementary cycle found by DFS, as a node list starting and ending at the same node. */
export function findCycles(nodes: readonly string[], deps: ReadonlyMap<string, readonly string[]>): string[][] {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const known = new Set(nodes);
  const visit = (node: string): void => {
    state.set(node, 'visiting');
    stack.push(node);
    for (const dep of deps.get(node) ?? []) {
      const s = state.get(dep);
      if (s === 'visiting') cycles.push([...stack.slice(stack.indexOf(dep)), dep]);
      else if (s === undefined && known.has(dep)) visit(dep);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of nodes) if (!state.has(node)) visit(node);
  return cycles;
}

/** Every node reachable by following deps backwards from `roots` (the roots included). */
export function withDependencies(roots: Iterable<string>, deps: ReadonlyMap<string, readonly string[]>): Set<string> {
  const seen = new Set<string>();
  const pending = [...roots];
  while (pending.length > 0) {
    const node = pending.pop()!;
    if (seen.has(node)) continue;
    seen.add(node);
    pending.push(...(deps.get(node) ?? []));
  }
  return seen;
}

/** Every node that depends on one of `roots`, transitively (the roots included). */
export function withDependents(roots: Iterable<string>, deps: ReadonlyMap<string, readonly string[]>): Set<string> {
  const dependents = new Map<string, string[]>();
  for (const [node, list] of deps) for (const dep of list) dependents.set(dep, [...(dependents.get(dep) ?? []), node]);
  return withDependencies(roots, dependents);
}
