// Smooth proxies of an approximation's damage: how far its logits move from the float model's on the
// same samples. Accuracy on a small subset moves in steps of 1/samples; these move continuously.

/** Accumulates mean KL(softmax(reference) ‖ softmax(logits)) and mean squared logit error. */
export class LogitProxies {
  #samples = 0;
  #kl = 0;
  #squared = 0;

  constructor(
    /** Reference (float model) logits, samples × classes, row-major. */
    readonly reference: Float32Array,
    readonly classes: number,
  ) {}

  /** Adds `count` rows of `logits` for the samples starting at `first`. */
  add(logits: Float32Array, first: number, count: number): void {
    const k = this.classes;
    for (let s = 0; s < count; s++) {
      const row = s * k;
      const refRow = (first + s) * k;
      const refNorm = logSumExp(this.reference, refRow, k);
      const norm = logSumExp(logits, row, k);
      for (let c = 0; c < k; c++) {
        const refLog = this.reference[refRow + c]! - refNorm;
        const log = logits[row + c]! - norm;
        this.#kl += Math.exp(refLog) * (refLog - log);
        this.#squared += (logits[row + c]! - this.reference[refRow + c]!) ** 2;
      }
    }
    this.#samples += count;
  }

  result(): {'logit-kl': number; 'logit-mse': number} {
    const n = Math.max(1, this.#samples);
    return {'logit-kl': this.#kl / n, 'logit-mse': this.#squared / (n * this.classes)};
  }
}

function logSumExp(values: Float32Array, start: number, length: number): number {
  let max = -Infinity;
  for (let i = 0; i < length; i++) max = Math.max(max, values[start + i]!);
  let sum = 0;
  for (let i = 0; i < length; i++) sum += Math.exp(values[start + i]! - max);
  return max + Math.log(sum);
}
