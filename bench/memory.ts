/**
 * Memory across cells of a long run: runs a slice of the `leaderboard` scenario in-process (its recipe and cell
 * keys unchanged, so its trials can be compared with the committed leaderboard records) from an empty training
 * cache, and prints after each cell, once the main thread has collected garbage (gc()):
 *   rss / vsz   the process's resident and virtual size (/proc/self/status; Linux). Every shared
 *               WebAssembly.Memory reserves about 10 GiB of address space while ANY thread still references it,
 *               so vsz counts the memories alive in all threads, training workers included;
 *   memories    WebAssembly memories created so far (counted by wrapping the constructor);
 *   engine      the engine's own count (src/engine/kernels.ts memoryStats): arenas in use, memories created,
 *               reused from its free list, and held there.
 * At the end: the per-cell growth of rss and vsz (least-squares slope over all cells, and over the last half,
 * after the first cells have made the memories a run needs at once), and the records file.
 *
 *   node --expose-gc --import tsx bench/memory.ts [--seeds 1] [--attacks honest,return-base,…] [--epochs N] [--rows N]
 *                                                 [--compare <records.jsonl[.gz]>]
 *
 * --attacks takes attack labels of scenarios/leaderboard.ts (default: ten of them, every kind of provider side);
 * the slice is dataset `stories`, defense `random-tokens (copy)`, the first --seeds seeds; --epochs and --rows
 * shorten the recipe for many cheap cells (their cell keys then are not the leaderboard's). --compare checks that
 * every trial field but the timings and trainCached (this slice starts from an empty training cache) equals the
 * same cell's trial in a records file (default: the committed leaderboard records), cell by cell. Not a test;
 * take no timing from it.
 */
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
};
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (see the usage in bench/memory.ts)');

// Count every WebAssembly.Memory made from here on (before the engine is loaded).
const made = { n: 0 };
const Original = WebAssembly.Memory;
const Counting = function (this: unknown, descriptor: WebAssembly.MemoryDescriptor) {
  made.n++;
  return new Original(descriptor);
} as unknown as typeof WebAssembly.Memory;
Counting.prototype = Original.prototype;
(WebAssembly as { Memory: typeof WebAssembly.Memory }).Memory = Counting;

const { projectCatalog } = await import('../src/runner/catalog.js');
const { runScenario } = await import('../src/runner/run.js');
const { loadScenario } = await import('../src/runner/scenario.js');
const { DiskTrainCache } = await import('../src/runner/train-cache.js');
const { repoRoot } = await import('../src/shared-path.js');
const kernels = (await import('../src/engine/kernels.js')) as { memoryStats?: () => Record<string, number> };

const DEFAULT_ATTACKS = [
  'honest',
  'return-base',
  'train-without-backdoors',
  'random-subset(50%)',
  'fewer-steps(50%)',
  'lookup-wrapper(near-duplicate)',
  'strip(perplexity)',
  'unlearn',
  'cleangen',
  'weight-noise',
];
const wanted = opt('attacks', DEFAULT_ATTACKS.join(',')).split(',');
const { scenario: full, file } = await loadScenario('leaderboard', projectCatalog);
const label = (a: { id: string; label?: string }) => a.label ?? a.id;
const unknown = wanted.filter((w) => !full.attacks.some((a) => label(a) === w));
if (unknown.length) throw new Error(`--attacks: no attack labelled ${unknown.join(', ')} in scenarios/leaderboard.ts`);
// --epochs / --rows shorten the recipe (many cheap cells; their keys then differ from the leaderboard's).
const epochs = opt('epochs', ''), rows = opt('rows', '');
const scenario = {
  ...full,
  seeds: Array.from({ length: Number(opt('seeds', '1')) }, (_, i) => i),
  datasets: full.datasets.filter((d) => d.spec === 'stories').map((d) => (rows ? { ...d, size: Number(rows) } : d)),
  hyper: epochs ? { ...full.hyper, epochs: Number(epochs) } : full.hyper,
  defenses: full.defenses.filter((d) => d.label === 'random-tokens (copy)'),
  attacks: full.attacks.filter((a) => wanted.includes(label(a))),
};

const root = mkdtempSync(join(tmpdir(), 'vtune-memory-'));
const status = () => {
  const s = readFileSync('/proc/self/status', 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, vszGb: kb('VmSize') / 2 ** 20 };
};
const engine = () => {
  const s = kernels.memoryStats?.();
  return s ? ` engine: in use ${s.inUse}, created ${s.created}, reused ${s.reused}, free ${s.free}` : ' engine: (no memoryStats)';
};
const points: { rss: number; vsz: number }[] = [];
const start = status();
console.log(`${scenario.seeds.length * scenario.attacks.length} cells; start rss ${start.rssMb.toFixed(0)} MB vsz ${start.vszGb.toFixed(1)} GB`);
const summary = await runScenario({
  scenario,
  file,
  catalog: projectCatalog,
  resultsRoot: root,
  trainCache: new DiskTrainCache(join(root, 'cache')),
  log: { info: () => {}, debug: () => {}, warn: () => {} },
  progress: {
    start() {},
    cellProgress() {},
    stop() {},
    cellFinished(cell, r) {
      gc();
      const s = status();
      const m = process.memoryUsage();
      points.push({ rss: s.rssMb, vsz: s.vszGb });
      console.log(
        `cell ${points.length} ${cell.recorded.labels.attack}${r.ok ? '' : ' FAILED'}: rss ${s.rssMb.toFixed(0)} MB vsz ${s.vszGb.toFixed(1)} GB heap ${(m.heapUsed / 2 ** 20).toFixed(0)} MB; memories made ${made.n};${engine()}`,
      );
    },
  },
});

const slope = (ys: number[]) => {
  const n = ys.length;
  const mx = (n - 1) / 2;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0, den = 0;
  ys.forEach((y, x) => ((num += (x - mx) * (y - my)), (den += (x - mx) ** 2)));
  return den > 0 ? num / den : 0;
};
const half = points.slice(Math.floor(points.length / 2));
console.log(
  `${summary.succeeded} cells ok, ${summary.failed} failed; memories made ${made.n} in ${points.length} cells; growth per cell (least squares) ` +
    `over all cells: rss ${slope(points.map((p) => p.rss)).toFixed(1)} MB, vsz ${slope(points.map((p) => p.vsz)).toFixed(2)} GB; ` +
    `over the last ${half.length} (after the warm-up): rss ${slope(half.map((p) => p.rss)).toFixed(1)} MB, vsz ${slope(half.map((p) => p.vsz)).toFixed(2)} GB`,
);
console.log(`records: ${summary.recordsPath}`);

// Same trials as the reference records (timings aside)?
const refDir = join(repoRoot, 'results', 'leaderboard');
const ref = opt('compare', join(refDir, readdirSync(refDir).find((d) => !d.includes('.')) ?? '', 'records.jsonl.gz'));
const lines = (p: string) => (p.endsWith('.gz') ? gunzipSync(readFileSync(p)).toString('utf8') : readFileSync(p, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
// trainCached says whether the cache already held the fine-tune: this slice starts from an empty cache.
const comparable = (r: Record<string, unknown>) => {
  const { timingsMs: _t, durationMs: _d, trainCached: _c, ...rest } = r;
  return JSON.stringify(rest);
};
const theirs = new Map(lines(ref).filter((r) => r.kind === 'trial').map((r) => [r.cellKey as string, comparable(r)]));
let same = 0, differ = 0, absent = 0;
for (const r of lines(summary.recordsPath).filter((x) => x.kind === 'trial')) {
  const t = theirs.get(r.cellKey as string);
  if (t === undefined) absent++;
  else if (t === comparable(r)) same++;
  else {
    differ++;
    console.log(`differs from ${ref}: cell ${String(r.cellKey)}`);
  }
}
console.log(`trials vs ${ref}: ${same} identical, ${differ} different, ${absent} not in it`);
process.exit(differ > 0 ? 1 : 0);
