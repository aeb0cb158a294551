/**
 * Timings of the exact tails at large n (DESIGN.md §3 needs them exact down to log10 p = −10⁴), printed as one
 * JSON object. Run: `npm run bench:stats`.
 */
import { performance } from 'node:perf_hooks';
import { Rng } from '../src/rng.js';
import { binomialLog10Sf } from '../src/stats/binomial.js';
import { fisherCombineLog10 } from '../src/stats/fisher.js';
import { clopperPearson } from '../src/stats/intervals.js';
import { poissonBinomialLog10Sf } from '../src/stats/poisson-binomial.js';

/** Median wall time of `reps` runs, and the last result. */
function time<T>(reps: number, f: () => T): { ms: number; result: T } {
  const times: number[] = [];
  let result!: T;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    result = f();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { ms: Number(times[Math.floor(reps / 2)]!.toFixed(3)), result };
}

const rng = new Rng('bench-stats');
const mixed = Array.from({ length: 10000 }, () => Math.log10(0.001 + 0.5 * rng.float()));
const meanQ = mixed.reduce((s, l) => s + 10 ** l, 0);
const cases = [
  { name: 'binomial n=10000 p=0.25 k=9000', ...time(20, () => binomialLog10Sf(9000, 10000, 0.25)) },
  { name: 'binomial n=10000 p=0.25 k=2600 (near the mode)', ...time(20, () => binomialLog10Sf(2600, 10000, 0.25)) },
  { name: 'poisson-binomial n=10 q=1e-4 k=10', ...time(20, () => poissonBinomialLog10Sf(Array<number>(10).fill(-4), 10)) },
  { name: 'poisson-binomial n=2000 mixed q k=1000', ...time(3, () => poissonBinomialLog10Sf(mixed.slice(0, 2000), 1000)) },
  { name: 'poisson-binomial n=10000 mixed q k=9000', ...time(3, () => poissonBinomialLog10Sf(mixed, 9000)) },
  { name: `poisson-binomial n=10000 mixed q k=${Math.round(meanQ)} (near the mean)`, ...time(3, () => poissonBinomialLog10Sf(mixed, Math.round(meanQ))) },
  { name: 'poisson-binomial n=10000 mixed q k=5000 (worst case, m = n/2)', ...time(3, () => poissonBinomialLog10Sf(mixed, 5000)) },
  { name: 'clopper-pearson k=37 n=10000', ...time(5, () => clopperPearson(37, 10000)) },
  { name: 'fisher 1000 p-values of 1e-40', ...time(20, () => fisherCombineLog10(Array<number>(1000).fill(-40))) },
];
console.log(JSON.stringify({ bench: 'stats', node: process.version, cases }, null, 2));
