/**
 * Cells per hour of a scenario (issue #17 "Throughput"), before and after, one after the other on one machine.
 * Each mode runs the scenario from scratch (a fresh results folder and an empty training cache, both under a
 * temporary folder) and prints one JSON line: cells, fine-tunes trained and reused, wall seconds, cells per
 * hour, where the cells' time went (each stage's share of the summed stage times; see StageClock in
 * src/runner/run.ts) and which kernels the engine ran (`kernels`: the build, and native AVX-512/AVX2 or wasm with
 * its vector width, src/engine/native.ts); an in-process mode also prints the engine's training work, counted (not timed), as the
 * padded computation of 6030a90 did it and as the packed one does (extra.trainWork: positions, output-layer
 * rows, attention pairs, GEMM multiply-adds; src/engine/train.ts TrainWork). Then it prints the after/before ratio of cells per hour, and checks that the modes
 * recorded the same trials: every trial field but the timings (timingsMs, durationMs) must be equal, cell by
 * cell; a difference is printed and makes the exit code 1.
 *
 * Modes (--modes, run in the order given):
 *   before  this checkout with today's (9287cf4) scheduling of the local provider: one cell at a time, two
 *           training threads, the calling thread one of them ({ concurrency: 1, threads: 2 });
 *   after   this checkout's defaults (two cells at once, one offloaded training thread each, on ≥ 2 cores);
 *   ref     another git ref (--ref, default 9287cf4, the commit before this work) checked out into a
 *           temporary git worktree (sharing this checkout's node_modules and build/) and run through its own
 *           CLI; its stage shares come from its records' timings (the pipeline's five stages only).
 *
 *   npm run bench:throughput -- [--scenario default] [--modes ref,after] [--ref 9287cf4] [--seeds N]
 *
 * --seeds N keeps the scenario's first N seeds (a reduced run: the same cells, keys and records as the full
 * scenario's for those seeds). Long: a full `default` run per mode. Not a test.
 */
import { canonicalJson } from '../src/core/canonical-json.js';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { kernelVariant } from '../src/engine/kernels.js';
import { describeGemmPath, gemmPath } from '../src/engine/native.js';
import { workerStats } from '../src/engine/parallel.js';
import { type TrainWork, trainWork } from '../src/engine/train.js';
import type { TrialRecord } from '../src/records/schema.js';
import { latestByCell, readRecordsFile } from '../src/records/store.js';
import { projectCatalog } from '../src/runner/catalog.js';
import { runScenario } from '../src/runner/run.js';
import { loadScenario, type Scenario } from '../src/runner/scenario.js';
import { DiskTrainCache } from '../src/runner/train-cache.js';
import { repoRoot } from '../src/shared-path.js';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
};
const scenarioName = opt('scenario', 'default');
const modes = opt('modes', 'ref,after').split(',');
const ref = opt('ref', '9287cf4');
const seedsOpt = opt('seeds', '');
const log = { info: () => {}, warn: (m: string) => process.stderr.write(`warning: ${m}\n`), debug: () => {} };

/** What one mode measured. */
interface Measured {
  mode: string;
  cells: number;
  failed: number;
  fineTunesTrained: number;
  fineTunesReused: number;
  wallSeconds: number;
  cellsPerHour: number;
  /** Stage → share of the summed stage times (0–1), largest first. */
  stageShares: Record<string, number>;
  trials: Map<string, TrialRecord>;
  /** The engine's kernel build and the path of its GEMM, attention and SwiGLU (native width or wasm): see src/engine/native.ts. */
  kernels: { build: string; path: string };
  extra?: Record<string, unknown>;
}

const round = (x: number, d = 3): number => Number(x.toFixed(d));

/**
 * The engine's counted training work (src/engine/train.ts TrainWork) since `from`, with the packed/padded
 * ratios of positions, output-layer rows, attention pairs and GEMM multiply-adds.
 */
function workSince(from: TrainWork): Record<string, number> {
  const now = trainWork();
  const d = Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v - from[k as keyof TrainWork]])) as unknown as TrainWork;
  const ratio = (a: number, b: number) => (b > 0 ? round(a / b) : 0);
  return {
    ...d,
    positionsRatio: ratio(d.positionsPacked, d.positionsPadded),
    logitRowsRatio: ratio(d.logitRowsPacked, d.logitRowsPadded),
    attnPairsRatio: ratio(d.attnPairsPacked, d.attnPairsPadded),
    macsRatio: ratio(d.macsPacked, d.macsPadded),
  };
}

function shares(ms: Record<string, number>): Record<string, number> {
  const total = Object.values(ms).reduce((a, b) => a + b, 0);
  return Object.fromEntries(
    Object.entries(ms)
      .filter(([, v]) => v > 0)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => [k, round(v / total)]),
  );
}

function trialsOf(recordsPath: string): Map<string, TrialRecord> {
  return new Map(latestByCell(readRecordsFile(recordsPath).records).trials.map((t) => [t.cellKey, t]));
}

/** This checkout, in this process, with the local provider's options overridden (before) or not (after). */
async function inProcess(mode: string, scenario: Scenario, file: string, local: Record<string, unknown> | undefined): Promise<Measured> {
  const root = mkdtempSync(join(tmpdir(), `vtune-throughput-${mode}-`));
  try {
    const run: Scenario = local ? { ...scenario, providers: { ...scenario.providers, local: { ...scenario.providers?.local, ...local } } } : scenario;
    const cache = new DiskTrainCache(join(root, 'cache', 'train'), log);
    const boots = { ...workerStats };
    const work0 = trainWork();
    const summary = await runScenario({ scenario: run, file, catalog: projectCatalog, resultsRoot: join(root, 'results'), trainCache: cache, log });
    const stageMs: Record<string, number> = { ...summary.stageMs };
    // The training cache's own I/O (saving each fine-tune, loading reused ones) is part of 'train': split it out.
    const io = cache.stats.saveMs + cache.stats.loadMs;
    if (stageMs.train !== undefined) stageMs.train = Math.max(0, stageMs.train - io);
    stageMs['train-cache I/O'] = io;
    const cells = summary.succeeded + summary.failed;
    return {
      mode,
      cells,
      failed: summary.failed,
      fineTunesTrained: cache.stats.trained,
      fineTunesReused: cache.stats.reused,
      wallSeconds: round(summary.durationMs / 1000, 1),
      cellsPerHour: round(cells / (summary.durationMs / 3_600_000), 1),
      stageShares: shares(stageMs),
      trials: trialsOf(summary.recordsPath),
      kernels: { build: kernelVariant(), path: describeGemmPath(gemmPath()) },
      extra: {
        localOptions: local ?? 'defaults',
        trainingWorkersBooted: workerStats.booted - boots.booted,
        trainingWorkersReused: workerStats.reused - boots.reused,
        trainWork: workSince(work0),
      },
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Another git ref, through its own CLI in a temporary worktree. */
function atRef(scenario: Scenario): Measured {
  const root = mkdtempSync(join(tmpdir(), 'vtune-throughput-ref-'));
  const tree = join(root, 'tree');
  execFileSync('git', ['-C', repoRoot, 'worktree', 'add', '--detach', tree, ref], { stdio: 'ignore' });
  try {
    symlinkSync(join(repoRoot, 'node_modules'), join(tree, 'node_modules'));
    cpSync(join(repoRoot, 'build'), join(tree, 'build'), { recursive: true });
    const sharedDir = join(repoRoot, '..', 'shared');
    if (existsSync(sharedDir) && !existsSync(join(tree, '..', 'shared'))) symlinkSync(sharedDir, join(root, 'shared'));
    let scenarioArg = scenarioName;
    if (seedsOpt) {
      // The same reduction as in-process: the scenario with its first N seeds (seeds: N is 0 … N−1).
      scenarioArg = join(tree, 'scenarios', '_throughput.ts');
      writeFileSync(scenarioArg, `import base from './${scenarioName}.js';\nexport default { ...base, seeds: ${JSON.stringify(scenario.seeds)} };\n`);
    }
    const out = spawnSync(process.execPath, ['--import', 'tsx', join(tree, 'src/cli/main.ts'), 'run', scenarioArg, '--results', join(root, 'results'), '--no-report'], {
      cwd: tree,
      env: { ...process.env, VTUNE_CACHE: join(root, 'cache') },
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    const line = out.stdout.split('\n').find((l) => / cells recorded /.test(l));
    const m = line?.match(/(\d+) run now, (\d+) failed; fine-tunes trained (\d+), reused from cache (\d+)\) in ([\d.]+) s/);
    const recordsPath = out.stdout.match(/records: (\S+)/)?.[1];
    if (!m || !recordsPath) throw new Error(`ref ${ref}: no summary line from its CLI (exit ${out.status}):\n${out.stdout}\n${out.stderr.slice(-4000)}`);
    const trials = trialsOf(resolve(tree, recordsPath));
    const stageMs: Record<string, number> = {};
    for (const t of trials.values()) for (const [k, v] of Object.entries(t.timingsMs)) stageMs[k] = (stageMs[k] ?? 0) + v;
    const cells = Number(m[1]) + Number(m[2]);
    const secs = Number(m[5]);
    return {
      mode: `ref ${ref}`,
      cells,
      failed: Number(m[2]),
      fineTunesTrained: Number(m[3]),
      fineTunesReused: Number(m[4]),
      wallSeconds: secs,
      cellsPerHour: round(cells / (secs / 3600), 1),
      stageShares: shares(stageMs),
      trials,
      // The ref's process resolves the build as this one does (same Node.js, same VTUNE_ENGINE_KERNELS); its tree
      // gets this checkout's build/ (the wasm) but no native/build, so it runs the WebAssembly kernels even where
      // it has the native path.
      kernels: { build: kernelVariant(), path: describeGemmPath('wasm') },
    };
  } finally {
    execFileSync('git', ['-C', repoRoot, 'worktree', 'remove', '--force', tree], { stdio: 'ignore' });
    rmSync(root, { recursive: true, force: true });
  }
}

/** Trial fields that may differ between runs: when and how long, not what. */
const TIMING_FIELDS = new Set(['timingsMs', 'durationMs']);
/**
 * The one intended difference between a record written before issue 16 and after: the baselines' declared goal
 * `baseline` became `honest` (the honest attack) or `null` (return-base, train-without-backdoors). Compared as
 * the new goal, so that any other difference still shows.
 */
function newGoal(attack: unknown): unknown {
  const a = attack as { id?: string; goal?: string } | undefined;
  if (!a || a.goal !== 'baseline') return attack;
  return { ...a, goal: a.id === 'honest' ? 'honest' : 'null' };
}
const canonical = (field: string, v: unknown): string => canonicalJson(field === 'attack' ? newGoal(v) : v);

/** Cells whose trials differ in any field but the timings: `[cellKey, field names]`. */
function compareTrials(a: Map<string, TrialRecord>, b: Map<string, TrialRecord>): [string, string[]][] {
  const out: [string, string[]][] = [];
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(key) as Record<string, unknown> | undefined;
    const y = b.get(key) as Record<string, unknown> | undefined;
    if (!x || !y) {
      out.push([key, [x ? 'missing in the second' : 'missing in the first']]);
      continue;
    }
    const fields = [...new Set([...Object.keys(x), ...Object.keys(y)])].filter((f) => !TIMING_FIELDS.has(f) && canonical(f, x[f]) !== canonical(f, y[f]));
    if (fields.length > 0) out.push([key, fields]);
  }
  return out;
}

const loaded = await loadScenario(scenarioName, projectCatalog);
const scenario: Scenario = seedsOpt ? { ...loaded.scenario, seeds: loaded.scenario.seeds.slice(0, Number(seedsOpt)) } : loaded.scenario;
const results: Measured[] = [];
for (const mode of modes) {
  const m =
    mode === 'before'
      ? await inProcess(mode, scenario, loaded.file, { concurrency: 1, threads: 2 })
      : mode === 'after'
        ? await inProcess(mode, scenario, loaded.file, undefined)
        : mode === 'ref'
          ? atRef(scenario)
          : undefined;
  if (!m) throw new Error(`--modes: unknown mode '${mode}' (before, after or ref)`);
  results.push(m);
  const { trials: _t, ...shown } = m;
  console.log(JSON.stringify({ kind: 'mode', scenario: scenario.name, seeds: scenario.seeds.length, ...shown }));
}
let exit = 0;
if (results.length >= 2) {
  const first = results[0]!;
  for (const other of results.slice(1)) {
    const diffs = compareTrials(first.trials, other.trials);
    console.log(
      JSON.stringify({
        kind: 'compare',
        first: first.mode,
        second: other.mode,
        cellsPerHourRatio: round(other.cellsPerHour / first.cellsPerHour, 2),
        trialsCompared: Math.max(first.trials.size, other.trials.size),
        trialsDiffering: diffs.length,
        ...(diffs.length > 0 && { differences: diffs.slice(0, 20) }),
      }),
    );
    if (diffs.length > 0) exit = 1;
  }
}
process.exitCode = exit;
