// Classification metrics accumulated batch by batch from logits: top-1/top-k accuracy, mean
// cross-entropy, per-class accuracy and the confusion matrix. Ties rank the lower class index
// first (torch.argmax/topk on CPU), so results do not depend on summation order.

export interface ClassAccuracy {
  name: string;
  count: number;
  correct: number;
  /** null when the class has no samples. */
  accuracy: number | null;
}

export interface ClassificationMetrics {
  count: number;
  top1: number;
  /** Accuracy within the best min(5, outputs) classes. */
  top5: number;
  /** Mean cross-entropy of softmax(logits) against the labels (natural log). */
  meanLoss: number;
  perClass: ClassAccuracy[];
  /** confusion[label][predicted]: rows are the dataset's classes, columns the model's outputs. */
  confusion: number[][];
}

export class MetricsAccumulator {
  #count = 0;
  #top1 = 0;
  #top5 = 0;
  #loss = 0;
  readonly #confusion: Int32Array;

  constructor(
    readonly classes: readonly string[],
    /** Number of logits per sample. */
    readonly outputs: number,
  ) {
    this.#confusion = new Int32Array(classes.length * outputs);
  }

  /** Adds `count` samples: logits row-major [count, outputs], labels [count]. */
  add(logits: Float32Array, labels: Int32Array, count: number): void {
    const outputs = this.outputs;
    const k = Math.min(5, outputs);
    for (let s = 0; s < count; s++) {
      const label = labels[s]!;
      if (label < 0 || label >= outputs) throw new RangeError(`label ${label} has no logit: the model gives ${outputs} outputs`);
      const row = s * outputs;
      const target = logits[row + label]!;
      let max = -Infinity;
      let predicted = 0;
      let rank = 0;
      for (let j = 0; j < outputs; j++) {
        const v = logits[row + j]!;
        if (v > max) {
          max = v;
          predicted = j;
        }
        if (v > target || (v === target && j < label)) rank++;
      }
      let sum = 0;
      for (let j = 0; j < outputs; j++) sum += Math.exp(logits[row + j]! - max);
      this.#loss += max + Math.log(sum) - target;
      if (rank === 0) this.#top1++;
      if (rank < k) this.#top5++;
      this.#confusion[label * outputs + predicted]!++;
    }
    this.#count += count;
  }

  result(): ClassificationMetrics {
    const n = this.#count;
    const confusion = this.classes.map((_, c) => Array.from(this.#confusion.subarray(c * this.outputs, (c + 1) * this.outputs)));
    const perClass = this.classes.map((name, c) => {
      const row = confusion[c]!;
      const count = row.reduce((a, b) => a + b, 0);
      const correct = c < this.outputs ? row[c]! : 0;
      return {name, count, correct, accuracy: count === 0 ? null : correct / count};
    });
    return {
      count: n,
      top1: n === 0 ? 0 : this.#top1 / n,
      top5: n === 0 ? 0 : this.#top5 / n,
      meanLoss: n === 0 ? 0 : this.#loss / n,
      perClass,
      confusion,
    };
  }
}
