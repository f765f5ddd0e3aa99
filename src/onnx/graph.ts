// Walking and editing an IR graph in place. Functions take the graph (plain data) and recompute
// what they need, so there is no index to keep in sync after an edit; a rewrite that looks values
// up in a loop should build producers()/consumers() once per pass.
import type {Graph, Node, Tensor} from './ir.js';

/** Value name -> the node producing it. Graph inputs and initializers have no producer. */
export function producers(graph: Graph): Map<string, Node> {
  const map = new Map<string, Node>();
  for (const node of graph.nodes) for (const output of node.outputs) if (output) map.set(output, node);
  return map;
}

/** Value name -> nodes reading it (a node reading a value twice appears once). */
export function consumers(graph: Graph): Map<string, Node[]> {
  const map = new Map<string, Node[]>();
  for (const node of graph.nodes) {
    for (const input of new Set(node.inputs)) {
      if (!input) continue;
      const list = map.get(input);
      if (list) list.push(node);
      else map.set(input, [node]);
    }
  }
  return map;
}

/**
 * Nodes in an order where every node comes after the producers of its inputs. Stable: a graph that
 * is already sorted keeps its order. Values produced by no node (graph inputs, initializers, names
 * bound by an enclosing graph) count as available. Throws on a cycle, naming a node on it.
 */
export function topologicalOrder(graph: Graph): Node[] {
  const producedBy = producers(graph);
  const readers = consumers(graph);
  const waiting = new Map<Node, number>();
  for (const node of graph.nodes) {
    let pending = 0;
    for (const input of new Set(node.inputs)) if (input && producedBy.has(input)) pending++;
    waiting.set(node, pending);
  }
  const position = new Map(graph.nodes.map((node, i) => [node, i]));
  // Ready nodes are taken in original order, so an already sorted graph is returned unchanged.
  const ready = graph.nodes.filter((node) => waiting.get(node) === 0);
  const order: Node[] = [];
  while (ready.length > 0) {
    const node = ready.shift()!;
    order.push(node);
    const released: Node[] = [];
    for (const output of new Set(node.outputs)) {
      for (const reader of readers.get(output) ?? []) {
        const left = waiting.get(reader)! - 1;
        waiting.set(reader, left);
        if (left === 0) released.push(reader);
      }
    }
    for (const reader of released) insertSorted(ready, reader, position);
  }
  if (order.length !== graph.nodes.length) {
    const stuck = graph.nodes.find((node) => waiting.get(node)! > 0)!;
    throw new Error(`graph "${graph.name}" has a cycle through node "${stuck.name}" (${stuck.opType})`);
  }
  return order;
}

function insertSorted(queue: Node[], node: Node, position: Map<Node, number>): void {
  const p = position.get(node)!;
  let i = queue.length;
  while (i > 0 && position.get(queue[i - 1]!)! > p) i--;
  queue.splice(i, 0, node);
}

/** Reorders graph.nodes topologically (ONNX requires it; rewrites may append out of order). */
export function sortNodes(graph: Graph): void {
  graph.nodes = topologicalOrder(graph);
}

/** Hands out names not yet used by any value, node or initializer of the graph (or by earlier calls). */
export class NameGenerator {
  readonly #taken = new Set<string>();
  readonly #counters = new Map<string, number>();

  constructor(graph?: Graph) {
    if (graph) for (const name of allNames(graph)) this.#taken.add(name);
  }

  /** `base` itself if free, else `base_1`, `base_2` … */
  fresh(base: string): string {
    let name = base;
    let n = this.#counters.get(base) ?? 0;
    while (this.#taken.has(name)) name = `${base}_${++n}`;
    this.#counters.set(base, n);
    this.#taken.add(name);
    return name;
  }

  reserve(name: string): void {
    this.#taken.add(name);
  }
}

function* allNames(graph: Graph): Iterable<string> {
  for (const value of [...graph.inputs, ...graph.outputs, ...graph.valueInfo]) yield value.name;
  for (const tensor of graph.initializers) yield tensor.name;
  for (const node of graph.nodes) {
    yield node.name;
    yield* node.inputs;
    yield* node.outputs;
    for (const attribute of node.attributes) {
      if (attribute.type === 'graph') yield* allNames(attribute.value);
      else if (attribute.type === 'graphs') for (const sub of attribute.value) yield* allNames(sub);
    }
  }
}

function indexOfNode(graph: Graph, node: Node): number {
  const i = graph.nodes.indexOf(node);
  if (i < 0) throw new Error(`node "${node.name}" (${node.opType}) is not in graph "${graph.name}"`);
  return i;
}

/** Replaces `node` by `replacement` (zero or more nodes) at its position. */
export function replaceNode(graph: Graph, node: Node, replacement: Node[]): void {
  graph.nodes.splice(indexOfNode(graph, node), 1, ...replacement);
}

export function insertBefore(graph: Graph, anchor: Node, nodes: Node[]): void {
  graph.nodes.splice(indexOfNode(graph, anchor), 0, ...nodes);
}

export function insertAfter(graph: Graph, anchor: Node, nodes: Node[]): void {
  graph.nodes.splice(indexOfNode(graph, anchor) + 1, 0, ...nodes);
}

export function removeNode(graph: Graph, node: Node): void {
  graph.nodes.splice(indexOfNode(graph, node), 1);
}

/**
 * Makes every reader of value `from` (nodes and graph outputs) read `to` instead. Readers in
 * `except` keep `from`, e.g. the node that computes `to` from `from` when inserting after a value.
 */
export function replaceUses(graph: Graph, from: string, to: string, except: ReadonlySet<Node> = new Set()): void {
  for (const node of graph.nodes) {
    if (except.has(node)) continue;
    for (let i = 0; i < node.inputs.length; i++) if (node.inputs[i] === from) node.inputs[i] = to;
  }
  for (const output of graph.outputs) if (output.name === from) output.name = to;
}

export function initializerMap(graph: Graph): Map<string, Tensor> {
  return new Map(graph.initializers.map((t) => [t.name, t]));
}

export function getInitializer(graph: Graph, name: string): Tensor | undefined {
  return graph.initializers.find((t) => t.name === name);
}

/** Adds `tensor`, replacing an initializer of the same name. */
export function setInitializer(graph: Graph, tensor: Tensor): void {
  const i = graph.initializers.findIndex((t) => t.name === tensor.name);
  if (i >= 0) graph.initializers[i] = tensor;
  else graph.initializers.push(tensor);
}

export function removeInitializer(graph: Graph, name: string): void {
  graph.initializers = graph.initializers.filter((t) => t.name !== name);
}

/**
 * Drops nodes whose outputs nobody reads and initializers no node reads (repeatedly, so whole dead
 * chains go). Graph outputs and values read by subgraphs count as read. Returns how many were removed.
 */
export function removeUnused(graph: Graph): number {
  const before = graph.nodes.length + graph.initializers.length;
  const live = new Set(graph.outputs.map((o) => o.name));
  const kept: Node[] = [];
  for (const node of [...topologicalOrder(graph)].reverse()) {
    if (!node.outputs.some((o) => live.has(o))) continue;
    kept.push(node);
    for (const input of node.inputs) live.add(input);
    for (const name of subgraphReads(node)) live.add(name);
  }
  const keptSet = new Set(kept);
  graph.nodes = graph.nodes.filter((node) => keptSet.has(node));
  graph.initializers = graph.initializers.filter((t) => live.has(t.name));
  graph.valueInfo = graph.valueInfo.filter((v) => live.has(v.name));
  return before - graph.nodes.length - graph.initializers.length;
}

/** Names a node's subgraphs (If/Loop/Scan bodies) read from the enclosing scope. */
function subgraphReads(node: Node): string[] {
  const names: string[] = [];
  for (const attribute of node.attributes) {
    const subs = attribute.type === 'graph' ? [attribute.value] : attribute.type === 'graphs' ? attribute.value : [];
    for (const sub of subs) for (const inner of sub.nodes) names.push(...inner.inputs, ...subgraphReads(inner));
  }
  return names;
}
