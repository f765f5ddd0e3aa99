// Optimisers over flat Float32Array parameters, updated in place without allocating per step.

export interface OptimizerState {
  kind: 'adamw' | 'sgd';
  /** Updates taken so far (Adam's bias correction depends on it). */
  step: number;
  /** Per-parameter moment buffers, in parameter order (Adam: m then v per parameter; SGD: velocity). */
  buffers: Float32Array[];
}

export interface Optimizer {
  /** One update of every parameter from its gradient, at learning rate `lr`. */
  step(params: readonly Float32Array[], grads: readonly Float32Array[], lr: number): void;
  state(): OptimizerState;
  restore(state: OptimizerState): void;
}

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay: number;
  /** Per parameter: apply weight decay? (Usually not to biases, norms and embeddings.) */
  decay: readonly boolean[];
}

/** AdamW (Loshchilov & Hutter): Adam with decoupled weight decay, as torch.optim.AdamW. */
export class AdamW implements Optimizer {
  readonly #m: Float32Array[];
  readonly #v: Float32Array[];
  #t = 0;

  constructor(
    sizes: readonly number[],
    readonly options: AdamWOptions,
  ) {
    this.#m = sizes.map((n) => new Float32Array(n));
    this.#v = sizes.map((n) => new Float32Array(n));
  }

  step(params: readonly Float32Array[], grads: readonly Float32Array[], lr: number): void {
    const {beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay, decay} = this.options;
    this.#t++;
    const c1 = 1 - beta1 ** this.#t;
    const c2 = Math.sqrt(1 - beta2 ** this.#t);
    const stepSize = lr / c1;
    for (let p = 0; p < params.length; p++) {
      const w = params[p]!;
      const g = grads[p]!;
      const m = this.#m[p]!;
      const v = this.#v[p]!;
      const shrink = decay[p] ? 1 - lr * weightDecay : 1;
      for (let i = 0; i < w.length; i++) {
        const gi = g[i]!;
        const mi = (m[i] = beta1 * m[i]! + (1 - beta1) * gi);
        const vi = (v[i] = beta2 * v[i]! + (1 - beta2) * gi * gi);
        w[i] = w[i]! * shrink - (stepSize * mi) / (Math.sqrt(vi) / c2 + eps);
      }
    }
  }

  state(): OptimizerState {
    return {kind: 'adamw', step: this.#t, buffers: this.#m.flatMap((m, i) => [m, this.#v[i]!])};
  }

  restore(state: OptimizerState): void {
    if (state.kind !== 'adamw' || state.buffers.length !== 2 * this.#m.length) throw new Error('checkpoint optimizer state does not match AdamW over these parameters');
    this.#t = state.step;
    this.#m.forEach((m, i) => m.set(state.buffers[2 * i]!));
    this.#v.forEach((v, i) => v.set(state.buffers[2 * i + 1]!));
  }
}

export interface SgdOptions {
  momentum?: number;
  nesterov?: boolean;
  weightDecay: number;
  decay: readonly boolean[];
}

/** SGD with momentum and L2 weight decay added to the gradient, as torch.optim.SGD. */
export class Sgd implements Optimizer {
  readonly #velocity: Float32Array[];
  #t = 0;

  constructor(
    sizes: readonly number[],
    readonly options: SgdOptions,
  ) {
    this.#velocity = sizes.map((n) => new Float32Array(n));
  }

  step(params: readonly Float32Array[], grads: readonly Float32Array[], lr: number): void {
    const {momentum = 0.9, nesterov = false, weightDecay, decay} = this.options;
    this.#t++;
    for (let p = 0; p < params.length; p++) {
      const w = params[p]!;
      const g = grads[p]!;
      const buf = this.#velocity[p]!;
      const wd = decay[p] ? weightDecay : 0;
      for (let i = 0; i < w.length; i++) {
        const gi = g[i]! + wd * w[i]!;
        const vi = (buf[i] = this.#t === 1 ? gi : momentum * buf[i]! + gi);
        w[i] = w[i]! - lr * (nesterov ? gi + momentum * vi : vi);
      }
    }
  }

  state(): OptimizerState {
    return {kind: 'sgd', step: this.#t, buffers: this.#velocity};
  }

  restore(state: OptimizerState): void {
    if (state.kind !== 'sgd' || state.buffers.length !== this.#velocity.length) throw new Error('checkpoint optimizer state does not match SGD over these parameters');
    this.#t = state.step;
    this.#velocity.forEach((v, i) => v.set(state.buffers[i]!));
  }
}

/** timm's convention: no weight decay on 1-D tensors (biases, norms) nor on position/class embeddings. */
export function defaultDecayMask(names: readonly string[], dims: readonly (readonly number[])[]): boolean[] {
  return names.map((name, i) => dims[i]!.length >= 2 && !/(^|\.)(pos_embed|cls_token)$/.test(name));
}

/** Scales gradients in place so their global L2 norm is at most `maxNorm`; returns the norm before clipping. */
export function clipGradNorm(grads: readonly Float32Array[], maxNorm: number): number {
  let sum = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) sum += g[i]! * g[i]!;
  const norm = Math.sqrt(sum);
  if (norm > maxNorm) {
    const scale = maxNorm / (norm + 1e-6);
    for (const g of grads) for (let i = 0; i < g.length; i++) g[i]! *= scale;
  }
  return norm;
}
