/**
 * Binary search over an index range: the first i in [0, n) where `before(i)` is false, for a `before` that is
 * true on a prefix of the range and false after it (n when it is true throughout). With a sorted array,
 * `firstIndex(a.length, (i) => a[i] < x)` is the lower bound of x and `(i) => a[i] <= x` its upper bound.
 */
export function firstIndex(n: number, before: (i: number) => boolean): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (before(mid)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
