// Reverse-mode differentiation of ONNX graphs: appends backward nodes that compute the gradients
// of seeded values (e.g. dLoss/dlogits) with respect to chosen values (weights, inputs).
import type {Node, Tensor} from '../onnx/ir.js';
import type {GraphBuilder} from '../models/graph-builder.js';
import {AutodiffError, GradContext, type GradRule, type ValueShapes} from './grad-context.js';
import {elementwiseRules} from './rules/elementwise.js';
import {linearAlgebraRules} from './rules/linear-algebra.js';
import {nnRules} from './rules/nn.js';
import {NON_DIFFERENTIABLE, shapeRules} from './rules/shape-ops.js';
import type {StraightThroughRegion} from './straight-through.js';
import {tableRegionGrad, type TableGradient} from './table-gradient-rule.js';

export const GRAD_RULES: Readonly<Record<string, GradRule>> = {...elementwiseRules, ...linearAlgebraRules, ...shapeRules, ...nnRules};

export interface DifferentiateOptions {
  /** Forward nodes in topological order. Rules may add optional outputs to them (LayerNorm mean, MaxPool indices). */
  nodes: Node[];
  /** Constant tensors (initializers) by name: rules read constant axes/starts from them. */
  constants: ReadonlyMap<string, Tensor>;
  shapes: ValueShapes;
  /** Gradient value already in the builder for each seeded forward value. */
  seeds: ReadonlyMap<string, string>;
  /** Values to differentiate with respect to. */
  wrt: readonly string[];
  straightThrough?: readonly StraightThroughRegion[];
  opset: number;
}

/** Appends the backward pass to `b` and returns the gradient value of each `wrt` value that influences a seed. */
export function differentiate(b: GraphBuilder, options: DifferentiateOptions): Map<string, string> {
  const {nodes, tableGradients} = backwardView(options.nodes, options.straightThrough ?? []);
  const requires = new Set(options.wrt);
  for (const node of nodes) {
    if (NON_DIFFERENTIABLE.has(node.opType)) continue;
    if (node.inputs.some((i) => requires.has(i))) for (const o of node.outputs) requires.add(o);
  }

  const pending = new Map<string, string[]>();
  const add = (value: string, grad: string) => {
    const list = pending.get(value);
    if (list === undefined) pending.set(value, [grad]);
    else list.push(grad);
  };
  const total = (value: string): string | undefined => {
    const list = pending.get(value);
    if (list === undefined) return undefined;
    if (list.length > 1) pending.set(value, [b.op('Sum', list, [], `grad.sum.${value}`)]);
    return pending.get(value)![0];
  };
  for (const [value, grad] of options.seeds) add(value, grad);

  const ctx = new GradContext(b, options.shapes, options.constants, (v) => requires.has(v), nodes[0]!, options.opset);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i]!;
    if (!node.inputs.some((input) => requires.has(input))) continue;
    const outputGrads = node.outputs.map((o) => (o === '' ? undefined : total(o)));
    if (outputGrads.every((g) => g === undefined)) continue;
    const rule = GRAD_RULES[node.opType];
    if (rule === undefined) {
      if (NON_DIFFERENTIABLE.has(node.opType)) continue;
      throw new AutodiffError(
        `autodiff: no gradient rule for op ${node.opType} (node '${node.name}'). Supported: ${Object.keys(GRAD_RULES).sort().join(', ')}; ` +
          'mark an approximate subgraph as a straight-through region, or re-export the model with supported ops',
      );
    }
    ctx.node = node;
    const table = tableGradients.get(node);
    const inputGrads = table !== undefined && outputGrads[0] !== undefined ? tableRegionGrad(node, outputGrads[0], ctx, table, rule) : rule(node, outputGrads, ctx);
    node.inputs.forEach((input, k) => {
      const grad = inputGrads[k];
      if (grad !== undefined && requires.has(input)) add(input, grad);
    });
  }

  const result = new Map<string, string>();
  for (const value of options.wrt) {
    const grad = total(value);
    if (grad !== undefined) result.set(value, grad);
  }
  return result;
}

/**
 * The nodes the backward pass walks: the producer of each straight-through region's output is
 * replaced by a virtual exact node, so the emulation nodes upstream never receive gradients. Virtual
 * nodes of regions differentiated through their table come with that table gradient.
 */
function backwardView(nodes: Node[], regions: readonly StraightThroughRegion[]): {nodes: Node[]; tableGradients: Map<Node, TableGradient>} {
  const tableGradients = new Map<Node, TableGradient>();
  if (regions.length === 0) return {nodes, tableGradients};
  const byOutput = new Map(regions.map((r) => [r.output, r]));
  const seen = new Set<string>();
  const view = nodes.map((node) => {
    const region = node.outputs.map((o) => byOutput.get(o)).find((r) => r !== undefined);
    if (region === undefined) return node;
    if (node.outputs.length !== 1) throw new AutodiffError(`autodiff: straight-through output '${region.output}' comes from multi-output node '${node.name}'`);
    seen.add(region.output);
    const exact: Node = {name: `${node.name}.straight_through`, opType: region.exact.opType, domain: '', inputs: region.exact.inputs, outputs: [region.output], attributes: region.exact.attributes ?? []};
    if (region.gradient !== undefined && region.gradient !== 'exact') tableGradients.set(exact, region.gradient);
    return exact;
  });
  const missing = regions.filter((r) => !seen.has(r.output));
  if (missing.length > 0) throw new AutodiffError(`autodiff: straight-through region outputs not produced by any node: ${missing.map((r) => r.output).join(', ')}`);
  return {nodes: view, tableGradients};
}
