/**
 * A binary max-heap ordered by `before(a, b)` ("a comes out first"; strict, so equal items keep the order the
 * sift loops give them, which is deterministic for a given sequence of pushes and pops). Used by the SentencePiece
 * encoder's merge queue (src/engine/tokenizer.ts) and lm-sampled's best-first prefix search
 * (defenses/vtune/generators/lm-prefix.ts).
 */
export class MaxHeap<T> {
  /** The items in heap order (the first comes out next); read-only for callers. */
  readonly items: T[] = [];

  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    const h = this.items;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  pop(): T | undefined {
    const h = this.items;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.before(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
