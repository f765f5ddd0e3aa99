// MCTS over per-layer assignments. A node at depth d fixes the multipliers of the first d layers in
// `layerOrder` (largest possible saving first, so the decisions that matter most sit near the root);
// an action picks the next layer's candidate. One simulation: descend by UCT through fully expanded
// nodes, expand one untried action (drawn from the rollout policy), complete the configuration with
// the policy, evaluate it, back the reward (reward.ts) up the path.
//
// Parallelism without losing determinism: an iteration builds a batch of `batchSize` new
// configurations sequentially, each simulation marking its path with a virtual loss (a visit with
// reward 0) so the next one spreads out; the batch is then evaluated with any parallelism and backed
// up in batch order. The course of the search depends on the seed and `batchSize`, never on how many
// evaluations run at once.
import {SearchInputError} from './errors.js';
import type {EvaluationLedger} from './ledger.js';
import {RolloutPolicy, type PolicyParams} from './policy.js';
import {reward, type RewardContext, type RewardShape} from './reward.js';
import type {Random} from '../../util/random.js';
import {configId, type Config, type SearchSpace} from './space.js';
import type {SearchStrategy} from './strategy.js';
import {uctScore} from './uct.js';
import type {EvaluatedPoint, Json} from './types.js';

export interface MctsParams {
  exploration: number;
  batchSize: number;
  policy: PolicyParams;
  reward: RewardShape;
}

interface TreeNode {
  visits: number;
  totalReward: number;
  /** Pending simulations through this node (each counts as a visit with reward 0). */
  virtual: number;
  /** Indexed by the next layer's candidate; empty at full depth. */
  children: (TreeNode | undefined)[];
  /** Every configuration under this node has been simulated; selection skips it. */
  exhausted: boolean;
  /** Best reward backed up through this node and its configuration (for the greedy path). */
  best?: {reward: number; config: number[]};
}

interface SavedNode {
  n: number;
  w: number;
  b?: {r: number; c: number[]};
  k: (SavedNode | null)[];
}

export function impactOrder(space: SearchSpace): number[] {
  const impact = space.candidates.map((list, l) => space.macShare[l]! * (1 - list[space.cheapest[l]!]!.relativePower));
  return space.layerNames.map((_, l) => l).sort((a, b) => impact[b]! - impact[a]! || a - b);
}

export class Mcts implements SearchStrategy {
  readonly #space: SearchSpace;
  readonly #rng: Random;
  readonly #params: MctsParams;
  readonly #policy: RolloutPolicy;
  readonly #order: number[];
  readonly #rewardContext: RewardContext;
  readonly #root: TreeNode;

  constructor(space: SearchSpace, rng: Random, params: MctsParams, saved?: Json) {
    this.#space = space;
    this.#rng = rng;
    this.#params = params;
    this.#policy = new RolloutPolicy(space, params.policy);
    this.#order = impactOrder(space);
    this.#rewardContext = {maxAccuracyDrop: space.problem.maxAccuracyDrop, maxSaving: space.maxSaving};
    this.#root = saved === undefined || saved === null ? this.#newNode(0) : this.#load(saved as unknown as SavedNode, 0);
  }

  #reward(point: EvaluatedPoint): number {
    return reward(point, this.#rewardContext, this.#params.reward);
  }

  async iterate(ledger: EvaluationLedger, remainingBudget: number): Promise<boolean> {
    const want = Math.min(this.#params.batchSize, remainingBudget);
    this.#policy.calibrate(ledger.toJSON());
    const pending: {path: TreeNode[]; config: number[]}[] = [];
    const pendingIds = new Set<string>();
    while (pendingIds.size < want && !this.#root.exhausted) {
      const simulation = this.#simulate();
      const known = ledger.get(simulation.config);
      if (known !== undefined) {
        // Already evaluated: its reward is known now, so it informs the rest of this batch at no cost.
        this.#backup(simulation.path, this.#reward(known), simulation.config);
        continue;
      }
      pendingIds.add(configId(simulation.config));
      for (const node of simulation.path) node.virtual++;
      pending.push(simulation);
    }
    const points = await ledger.evaluate(pending.map((p) => p.config));
    pending.forEach(({path, config}, i) => {
      for (const node of path) node.virtual--;
      this.#backup(path, this.#reward(points[i]!), config);
    });
    return !this.#root.exhausted;
  }

  /** TransAxx's final answer: follow the most visited child from the root, then take the best configuration seen below. */
  finalConfig(): Config | undefined {
    let node = this.#root;
    for (;;) {
      let next: TreeNode | undefined;
      for (const child of node.children) {
        if (child === undefined || child.visits === 0) continue;
        if (next === undefined || child.visits > next.visits || (child.visits === next.visits && child.totalReward > next.totalReward)) next = child;
      }
      if (next === undefined) return node.best?.config;
      node = next;
    }
  }

  save(): Json {
    return this.#save(this.#root) as unknown as Json;
  }

  #simulate(): {path: TreeNode[]; config: number[]} {
    const depth = this.#order.length;
    const config = new Array<number>(depth).fill(0);
    const path = [this.#root];
    let node = this.#root;
    let committed = 0;
    for (let d = 0; d < depth; d++) {
      const layer = this.#order[d]!;
      const untried = node.children.flatMap((child, i) => (child === undefined ? [i] : []));
      let choice: number;
      if (untried.length > 0) {
        const weights = this.#policy.weights(layer, committed);
        choice = untried[this.#rng.weighted(untried.map((i) => weights[i]!))]!;
        const child = this.#newNode(d + 1);
        node.children[choice] = child;
        path.push(child);
        this.#updateExhausted(path);
        config[layer] = choice;
        committed += this.#policy.drop(layer, choice);
        this.#rollout(config, d + 1, committed);
        return {path, config};
      }
      choice = this.#selectByUct(node);
      node = node.children[choice]!;
      path.push(node);
      config[layer] = choice;
      committed += this.#policy.drop(layer, choice);
    }
    throw new Error('mcts: selection reached a fully simulated leaf (internal error: exhausted nodes must be skipped)');
  }

  #selectByUct(node: TreeNode): number {
    const parentVisits = node.visits + node.virtual;
    let best = -1;
    let bestScore = -Infinity;
    node.children.forEach((child, i) => {
      if (child === undefined || child.exhausted) return;
      const score = uctScore(child.totalReward, child.visits + child.virtual, parentVisits, this.#params.exploration);
      if (score > bestScore) {
        best = i;
        bestScore = score;
      }
    });
    return best;
  }

  #rollout(config: number[], fromDepth: number, committed: number): void {
    for (let d = fromDepth; d < this.#order.length; d++) {
      const layer = this.#order[d]!;
      const choice = this.#rng.weighted(this.#policy.weights(layer, committed));
      config[layer] = choice;
      committed += this.#policy.drop(layer, choice);
    }
  }

  #backup(path: readonly TreeNode[], value: number, config: number[]): void {
    for (const node of path) {
      node.visits++;
      node.totalReward += value;
      if (node.best === undefined || value > node.best.reward) node.best = {reward: value, config};
    }
  }

  /** Exhaustion is structural (which nodes exist), so it is recomputed on load rather than saved. */
  #updateExhausted(path: readonly TreeNode[]): void {
    for (let k = path.length - 1; k >= 0; k--) {
      const node = path[k]!;
      node.exhausted = node.children.every((child) => child?.exhausted === true);
    }
  }

  #newNode(depth: number): TreeNode {
    const width = depth < this.#order.length ? this.#space.candidates[this.#order[depth]!]!.length : 0;
    return {visits: 0, totalReward: 0, virtual: 0, children: new Array(width).fill(undefined), exhausted: width === 0};
  }

  #save(node: TreeNode): SavedNode {
    const saved: SavedNode = {n: node.visits, w: node.totalReward, k: node.children.map((child) => (child === undefined ? null : this.#save(child)))};
    if (node.best !== undefined) saved.b = {r: node.best.reward, c: node.best.config};
    return saved;
  }

  #load(saved: SavedNode, depth: number): TreeNode {
    const node = this.#newNode(depth);
    if (saved.k.length !== node.children.length) throw new SearchInputError('checkpoint', 'search checkpoint: the saved tree does not match the problem (candidate counts differ); delete the checkpoint');
    node.visits = saved.n;
    node.totalReward = saved.w;
    if (saved.b !== undefined) node.best = {reward: saved.b.r, config: saved.b.c};
    node.children = saved.k.map((child) => (child === null ? undefined : this.#load(child, depth + 1)));
    node.exhausted = node.children.length === 0 || node.children.every((child) => child?.exhausted === true);
    return node;
  }
}
