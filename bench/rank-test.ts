/**
 * Likelihood-rank test on a finished run's fine-tune (a measurement, not a defense): would ranking each planted
 * signature's teacher-forced log-probability among counterfactual signatures see more than greedy hit counting?
 *
 * For every backdoor i of a vtune cell: s_true = ln P(Sᵢ | queryᵢ) under the model (the local engine's score API,
 * the path data-watermark's rank test uses), s_m the same for the secret's stored counterfactual signatures (drawn
 * by generator.counterfactuals() from the host's own plan, on the stream plant.ts counterfactualStream gives it:
 * the sets the `empirical` null uses). Under H0 (the model is independent of the secret) Sᵢ and its M
 * counterfactuals are i.i.d. given the host, so pᵢ = (1 + #{m : s_m ≥ s_true}) / (M + 1) is exactly super-uniform
 * (ties counted against). The 10 pᵢ are independent under H0 and combine by Fisher's statistic T = −Σ ln pᵢ:
 * - `exact`: P(T' ≥ T) for T' built from independent discrete uniforms on {1,…,M+1}/(M+1), computed by
 *   convolution on a grid of width 1e-3 in ln p, rounded up (an upper bound: a valid p-value;
 *   src/stats/rank-fisher.ts, the code of the vtune `rank` null mode, whose own verdict is printed too);
 * - `chi2`: the χ²(2n) tail of 2T, also valid for discrete super-uniform pᵢ (couple each pᵢ with a continuous
 *   uniform Uᵢ ≤ pᵢ: Fisher's region is monotone), and conservative: printed for comparison.
 * Two statistics: `ft` = ln P_model (the likelihood), and `ft−base` = ln P_model − ln P_base (a reference-model
 * calibrated score; base is independent of the secret, so exchangeability is untouched).
 *
 * The cell is replayed, not retrained: the scenario is loaded, the cell's spec rebuilt by the runner's expandCells
 * and its key checked against the run record; planting is rerun through the vtune defense with the cell's own
 * streams (src/pipeline/cell.ts), and the provider side through runProviderSide with the honest attack and the
 * disk training cache — whose key hashes the exact training rows, so a hit proves the replanted rows are the ones
 * trained. A cache miss aborts (no training). The replayed model is re-verified and its hits compared with the
 * record's. An audit line checks the exchangeability premise: draw() on the counterfactual streams reproduces the
 * planted signature and every stored counterfactual (one function of i.i.d. draws on one plan), and the host choice
 * replayed as plant.ts makes it never left a row because a drawn completion was too long (the one draw-dependent
 * event in planting).
 *
 * Measured on results/stealth/stealth-density-gsm8k/d53d6ee0e024 (vtb-base, 2,000 GSM8K rows, 10 backdoors,
 * 16 epochs): in-place honest K = 2/10 hits (log10 p −9.1) but the planted signature ranks first of 1,000 for all
 * 10 backdoors (log10 p −30.0, the floor of M = 999); reorder honest K = 0/10 but log10 p −12.4; the base model
 * gives uniform-looking pᵢ (log10 p −0.2 and −0.1). ~11 ms per scored item here (10,000 items per model at M = 999).
 *
 *   VTUNE_CACHE=/path/.cache nice -n 10 npx tsx bench/rank-test.ts --records <run>/records.jsonl \
 *     [--generator in-place --generator reorder] [--m 99 --m 999]
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { attacks } from '../attacks/index.js';
import { defenses } from '../defenses/index.js';
import type { VtuneDefense } from '../defenses/vtune/index.js';
import { backdoorFit, backdoorStream, counterfactualStream } from '../defenses/vtune/plant.js';
import type { AttackFactory } from '../src/core/attack.js';
import { parseModelRef } from '../src/core/models.js';
import type { TrainCache } from '../src/core/training.js';
import { dataKey, pairKey } from '../src/pipeline/cell.js';
import { createCostMeter } from '../src/pipeline/cost.js';
import { runProviderSide } from '../src/pipeline/provider-side.js';
import { projectCatalog } from '../src/runner/catalog.js';
import { expandCells } from '../src/runner/expand.js';
import { loadScenario, scenarioHash } from '../src/runner/scenario.js';
import { DiskTrainCache, cacheRoot } from '../src/runner/train-cache.js';
import { Rng, streamFor } from '../src/rng.js';
import { chiSquareEvenLogSf } from '../src/stats/fisher.js';
import { empiricalPValue } from '../src/stats/empirical.js';
import { discreteFisherLogSf } from '../src/stats/rank-fisher.js';
import type { Logger, ProviderContext, UserContext } from '../src/types.js';

const argv = process.argv.slice(2);
const opt = (name: string): string[] => argv.flatMap((a, i) => (a === `--${name}` && argv[i + 1] !== undefined ? [argv[i + 1]!] : []));
const fail = (message: string): never => {
  process.stderr.write(`rank-test: ${message}\n`);
  process.exit(2);
};
const recordsPath = opt('records')[0] ?? fail('--records <run folder>/records.jsonl is required');
if (!existsSync(recordsPath)) fail(`--records: no such file '${recordsPath}'`);
const generatorIds = opt('generator').length > 0 ? opt('generator') : ['in-place', 'reorder'];
const ms = (opt('m').length > 0 ? opt('m') : ['99', '999']).map((s) => {
  const m = Number(s);
  if (!Number.isInteger(m) || m < 1) fail(`--m: expected a positive integer, got '${s}'`);
  return m;
});
if (process.env.VTUNE_CACHE === undefined) fail('set VTUNE_CACHE to the cache the run trained into (a miss aborts: this script never trains)');

const log: Logger = { info: () => {}, warn: (m) => process.stderr.write(`warning: ${m}\n`), debug: () => {} };

// ── the run record ──
interface TrialLine {
  kind: 'trial';
  cellKey: string;
  cell: { labels: { generator: string; attack: string }; seed: number };
  verdict: { hits: boolean[]; log10p: number; k: number; n: number; log10pByNullMode?: Record<string, number> };
}
const lines = readFileSync(recordsPath, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as { kind: string });
const manifest = lines.find((l) => l.kind === 'manifest') as { scenario: { name: string; hash: string } } | undefined;
if (!manifest) fail(`${recordsPath}: no manifest line`);
const trials = lines.filter((l): l is TrialLine => l.kind === 'trial');

const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : String(x));

// ── replay each cell ──
const { scenario } = await loadScenario(manifest!.scenario.name, projectCatalog);
if (scenarioHash(scenario) !== manifest!.scenario.hash) fail(`scenario '${scenario.name}' hashes to ${scenarioHash(scenario)} here, the run used ${manifest!.scenario.hash}: not the same cells`);
const cells = expandCells(scenario, projectCatalog.cellKey);
const provider = await projectCatalog.openProvider('local', scenario.providers?.local);
const disk = new DiskTrainCache(join(cacheRoot(), 'train'), log);
// A miss would train for half an hour: refuse instead. getOrTrain calls `train` only on a miss (or an unreadable entry).
const hitOnly: TrainCache = {
  getOrTrain: (key, p) =>
    disk.getOrTrain(key, p, () => {
      throw new Error(`training cache miss for key ${key.slice(0, 16)}… under ${cacheRoot()}: the replanted rows differ from the run's, or the cache is another; aborting rather than retraining`);
    }),
};

const summary: string[] = [];
for (const generator of generatorIds) {
  const cell = cells.find((c) => c.recorded.labels.generator === generator && c.recorded.labels.attack === 'honest' && c.spec.seed === 0);
  if (!cell) fail(`scenario '${scenario.name}' has no honest seed-0 cell of generator '${generator}'`);
  const spec = cell!.spec;
  const record = trials.find((t) => t.cellKey === spec.key);
  if (!record) fail(`${recordsPath}: no trial with cell key ${spec.key} (${generator}, honest, seed 0)`);
  const base = await (await projectCatalog.openProvider(parseModelRef(spec.model).provider)).model(parseModelRef(spec.model).name);

  // User side, as src/pipeline/cell.ts runOpened does it.
  const pair = pairKey(spec);
  const data = dataKey(spec);
  const userCtx = (purpose: string): UserContext => ({ rng: streamFor(pair, purpose), log, baseModel: base, generatorModel: base });
  const dataset = await projectCatalog.loadDataset(spec.dataset.spec, { seed: streamFor(data, 'dataset').seed31(), size: spec.dataset.size, heldOut: spec.dataset.heldOut });
  const { alpha: alphaOption, ...defenseOptions } = spec.defense.options;
  const defense = (defenses.get(spec.defense.id) as (o: Record<string, unknown>) => VtuneDefense)(defenseOptions);
  const planted = await defense.plant(dataset.train, userCtx('planting'));
  const secret = planted.secret;

  // Provider side: the honest attack through the training cache (hit only).
  const cost = createCostMeter();
  const pctx: ProviderContext = {
    rng: streamFor(spec.key, 'provider'),
    base,
    provider,
    hyper: spec.hyper,
    log,
    cost: cost.meter,
    openModel: async (ref) => (await projectCatalog.openProvider(parseModelRef(ref).provider)).model(parseModelRef(ref).name),
  };
  const honest = (attacks.get('honest') as AttackFactory)({});
  const side = await runProviderSide(honest, planted.rows, pctx, { trainCache: hitOnly, trainingSeed: streamFor(data, 'training').seed31() });
  if (!(side.trace.trainCalls.length === 1 && side.trace.trainCalls[0]!.cached)) fail(`${generator}: the fine-tune did not come from the cache`);
  const model = side.model;

  // The replay must reproduce the recorded verdict.
  const again = await defense.verify(model, secret, { alpha: typeof alphaOption === 'number' ? alphaOption : 1e-3, ctx: userCtx('verification') });
  const recHits = record!.verdict.hits;
  const againHits = again.perBackdoor.map((b) => b.hit);
  const same = JSON.stringify(againHits) === JSON.stringify(recHits) && Math.abs(again.log10p - record!.verdict.log10p) < 1e-9;
  console.log(`\n== ${generator}, honest, seed 0 (cell ${spec.key}; fine-tune from the cache: hit) ==`);
  console.log(`record: K = ${record!.verdict.k}/${record!.verdict.n}, log10 p (generator null) = ${fmt(record!.verdict.log10p)}, by null mode ${JSON.stringify(record!.verdict.log10pByNullMode ?? {})}; replayed verdict ${same ? 'identical' : `DIFFERS (K = ${again.k}, log10 p = ${fmt(again.log10p)})`}`);
  if (!same) fail('the replay does not reproduce the recorded verdict: not the same model or secret');

  // Exchangeability audit. (1) draw() redrawn on the counterfactual stream must give the stored counterfactuals:
  // then the planted signature and the counterfactuals are the same function of i.i.d. draws on one plan. (2) Did
  // the planted draw depend on the context fit? plant.ts moves a host whose drawn COMPLETION is too long, which
  // would condition the true signature on a draw-dependent event the counterfactuals never face.
  const fit = backdoorFit(base.contextLength, 4, base)!;
  const layout = new Rng(`vtune|${secret.seed}|layout`).sampleIndices(planted.rows.length, secret.backdoors.length);
  let sameDraws = true;
  let allFit = true;
  let maxTokens = 0;
  for (const b of secret.backdoors) {
    const dctx = { index: b.index, row: dataset.train[b.sourceRowIndex]!, rowIndex: b.sourceRowIndex, rows: dataset.train, model: base, placement: secret.placement };
    const planted1 = await defense.generator.draw({ ...dctx, rng: backdoorStream(secret.seed, b.index) });
    const cfRng = counterfactualStream(secret.seed, b.index);
    const cfs = [];
    for (let j = 0; j < secret.empirical.m; j++) cfs.push(await defense.generator.draw({ ...dctx, rng: cfRng }));
    if (planted1.signature !== b.signature || cfs.some((c, j) => c.signature !== b.counterfactuals![j])) sameDraws = false;
    for (const c of [planted1, ...cfs]) {
      if (!fit.fits(b.prompt, c.completion ?? c.signature)) allFit = false;
      maxTokens = Math.max(maxTokens, 1 + base.countTokens!(b.prompt) + base.countTokens!(c.completion ?? c.signature) + 4);
    }
  }
  // Host choice, replayed as plant.ts makes it: a row is left either by cannotHost (data only: harmless) or
  // because the drawn completion was too long for the context (draw-dependent: would break exchangeability).
  const hosts = [...layout];
  const refusedRows = new Set<number>();
  const tooLongRows = new Set<number>();
  let spares: number[] | undefined;
  for (let i = 0; i < hosts.length; i++) {
    for (;;) {
      const h = hosts[i]!;
      const ok = defense.generator.cannotHost?.(dataset.train[h]!, dataset.train) === undefined;
      if (ok) {
        const d = await defense.generator.draw({ index: i, row: dataset.train[h]!, rowIndex: h, rows: dataset.train, model: base, placement: secret.placement, rng: backdoorStream(secret.seed, i) });
        if (fit.fits(dataset.train[h]!.prompt, d.completion ?? d.signature)) break;
        tooLongRows.add(h);
      } else refusedRows.add(h);
      spares ??= new Rng(`vtune|${secret.seed}|spare-hosts`).shuffle(dataset.train.map((_, r) => r));
      const taken = new Set(hosts);
      hosts[i] = spares.find((r) => !taken.has(r) && !tooLongRows.has(r) && !refusedRows.has(r))!;
    }
  }
  const sameHosts = hosts.every((h, i) => h === secret.backdoors[i]!.sourceRowIndex);
  const moved = `hosts replayed = the secret's: ${sameHosts}; rows left for the data alone (cannotHost): ${refusedRows.size}; rows left because a drawn completion was too long: ${tooLongRows.size}`;
  console.log(`audit: M stored = ${secret.empirical.m} (${secret.empirical.source}); draw() on the counterfactual streams reproduces the planted signature and all stored counterfactuals: ${sameDraws}`);
  console.log(`audit: BOS + query + completion + 4 ≤ ${maxTokens} tokens over the planted and every counterfactual completion (context ${base.contextLength}): all fit = ${allFit}; ${moved}`);

  const mMax = Math.max(...ms);
  if (mMax > secret.empirical.m) fail(`--m ${mMax} is more than the ${secret.empirical.m} counterfactuals the secret stores`);
  // Score the true signature and the first mMax counterfactuals, per backdoor, under the fine-tune and the base.
  const items = secret.backdoors.flatMap((b) => [b.signature, ...b.counterfactuals!.slice(0, mMax)].map((continuation) => ({ prompt: b.prompt, continuation })));
  const t0 = performance.now();
  const ftScores = (await model.score!(items)).map((s) => s.logprob);
  const t1 = performance.now();
  const baseScores = (await base.score!(items)).map((s) => s.logprob);
  const t2 = performance.now();
  console.log(`scored ${items.length} items per model (${secret.backdoors.length} × (1 + ${mMax})): fine-tune ${((t1 - t0) / 1000).toFixed(0)} s, base ${((t2 - t1) / 1000).toFixed(0)} s (nice 10, shared 2 cores)`);
  const per = (scores: number[], i: number, m: number) => {
    const row = scores.slice(i * (mMax + 1), (i + 1) * (mMax + 1));
    return { true: row[0]!, cf: row.slice(1, 1 + m) };
  };
  const stats: { name: string; score(i: number, m: number): { true: number; cf: number[] } }[] = [
    { name: 'ft', score: (i, m) => per(ftScores, i, m) },
    {
      name: 'ft−base',
      score: (i, m) => {
        const f = per(ftScores, i, m);
        const b = per(baseScores, i, m);
        return { true: f.true - b.true, cf: f.cf.map((x, j) => x - b.cf[j]!) };
      },
    },
    { name: 'base (null)', score: (i, m) => per(baseScores, i, m) },
  ];
  for (const m of ms) {
    console.log(`\n-- M = ${m} --`);
    // cf = S: counterfactuals identical to the planted signature (a low-entropy generator's ties, counted against).
    // margin: ln P_ft(S) minus the best counterfactual's (> 0: the planted signature is the fine-tune's favourite).
    console.log(['i', 'hit', 'ln P_ft(S)', 'ln P_base(S)', 'margin ft', 'cf = S', ...stats.flatMap((s) => [`rank ${s.name}`, `p ${s.name}`])].join('\t'));
    const ps = stats.map(() => [] as number[]);
    secret.backdoors.forEach((b, i) => {
      const cols = stats.map((s, k) => {
        const { true: t, cf } = s.score(i, m);
        const p = empiricalPValue(t, cf);
        ps[k]!.push(p);
        return [String(Math.round(p * (cf.length + 1))), p.toPrecision(3)];
      });
      const ft = per(ftScores, i, m);
      console.log([String(b.index), recHits[i] ? 'HIT' : '-', fmt(ft.true), fmt(per(baseScores, i, m).true), fmt(ft.true - Math.max(...ft.cf)), String(b.counterfactuals!.slice(0, m).filter((c) => c === b.signature).length), ...cols.flat()].join('\t'));
    });
    stats.forEach((s, k) => {
      const t = -ps[k]!.reduce((a, p) => a + Math.log(p), 0);
      const ex = discreteFisherLogSf(t, ps[k]!.length, m);
      const chi = chiSquareEvenLogSf(2 * t, ps[k]!.length);
      const line = `${generator} M=${m} ${s.name}: Fisher T = ${fmt(t)}; combined log10 p exact ${fmt(ex / Math.LN10)} (discrete Fisher tail, grid rounded up), χ²(${2 * ps[k]!.length}) ${fmt(chi / Math.LN10)}; floor log10 p = ${fmt(-ps[k]!.length * Math.log10(m + 1))}`;
      console.log(line);
      summary.push(line);
    });
  }
  // The defense's own 'rank' null (defenses/vtune/verify.ts), as a scenario cell would compute it.
  for (const m of ms) {
    const rank = (defenses.get(spec.defense.id) as (o: Record<string, unknown>) => VtuneDefense)({ ...defenseOptions, nullMode: 'rank', rankM: m });
    for (const [name, mdl] of [['ft', model], ['base (null)', base]] as const) {
      const v = await rank.verify(mdl, secret, { alpha: 1e-3, ctx: userCtx('verification') });
      const line = `${generator} M=${m} ${name}: vtune nullMode 'rank' verdict: log10 p = ${fmt(v.log10p)}, K = ${v.k}/${v.n}, verified at α = 1e-3: ${v.verified}`;
      console.log(line);
      summary.push(line);
    }
  }
  for (const m of side.ownedModels) await m.dispose?.();
  await base.dispose?.();
}
console.log(`\nsummary (cache: ${cacheRoot()}; records: ${recordsPath})`);
for (const l of summary) console.log(l);
await provider.close?.();
