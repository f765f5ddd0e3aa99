/** Runs `work` over `items` with at most `parallel` in flight; results keep the items' order. */
export async function mapConcurrent<T, R>(items: readonly T[], parallel: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({length: Math.max(1, Math.min(parallel, items.length))}, worker));
  return results;
}
