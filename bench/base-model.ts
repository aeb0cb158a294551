/**
 * Measures the base model (default models/vtb-base.gguf, or BENCH_MODEL=<path>) against issue #5 and prints
 * JSON lines as each part finishes, then one summary object:
 * - `language`: AUROC of the perplexity row scorer (mode `row`) separating random-token strings from clean
 *   held-out completions of every built-in dataset; distinct-2 and the longest token run of 20 greedy
 *   continuations of up to 64 tokens (ended early only by EOS/BOS) of held-out document openings;
 * - `finetune`: for each built-in dataset (BENCH_DOMAINS, default all), the held-out task metric of the base
 *   model and of a default fine-tune on BENCH_ROWS (default 2,000) rows, with the fine-tune's wall time;
 * - `vtune`: an honest fine-tune of BENCH_ROWS rows with 10 planted backdoors (0.5%), verified with the
 *   generator null; and the base model returned unchanged, verified the same way.
 * BENCH_FT_EPOCHS overrides the fine-tune's epochs. BENCH_PARTS (default `language,finetune,vtune`) picks the parts; BENCH_VTUNE_DATASET (default stories) and
 * BENCH_VTUNE_EPOCHS (default: the default fine-tune's) set up the vtune part.
 */
import { performance } from 'node:perf_hooks';
import { scorers } from '../attacks/scorers/index.js';
import { vtune } from '../defenses/vtune/index.js';
import { datasets, loadDataset } from '../src/datasets/index.js';
import { auroc } from '../src/pipeline/detection-metrics.js';
import { distinct2, longestRun, randomTokenText } from '../src/pretrain/quality.js';
import { createLocalProvider, localState } from '../src/providers/local.js';
import { Rng } from '../src/rng.js';
import type { HyperParams, Model, ProviderContext, Row, TaskMetric } from '../src/types.js';

/** The "default fine-tune" of the bench (full fine-tune, warmup + cosine). */
export const DEFAULT_HYPER: HyperParams = { epochs: 6, learningRate: 3e-3, batchSize: 16, warmupSteps: 10, schedule: 'cosine' };

const MODEL = process.env.BENCH_MODEL ?? 'vtb-base';
const ROWS = Number(process.env.BENCH_ROWS ?? 2000);
const PARTS = (process.env.BENCH_PARTS ?? 'language,finetune,vtune').split(',');
const DOMAINS = (process.env.BENCH_DOMAINS ?? datasets.ids.join(',')).split(',');
const HELD_OUT = Number(process.env.BENCH_HELD_OUT ?? 100);
const SEED = 1;
const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
const emit = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
const log = { info: () => undefined, warn: (m: string) => process.stderr.write(`${m}\n`), debug: () => undefined };

async function language(base: Model): Promise<Record<string, unknown>> {
  const { tokenizer } = localState(base);
  const rng = new Rng('bench-base-model|random-tokens');
  const clean: string[] = [];
  for (const id of datasets.ids) {
    const d = await loadDataset(id, { seed: SEED, size: 1, heldOut: 40 });
    for (const r of d.heldOut) clean.push(r.completion);
  }
  const random = clean.map((t) => randomTokenText(tokenizer, Math.max(4, tokenizer.encode(t).length), rng));
  const rows: Row[] = [...clean, ...random].map((completion) => ({ prompt: '', completion }));
  const provider = await createLocalProvider();
  const ctx: ProviderContext = {
    rng,
    base,
    provider,
    hyper: DEFAULT_HYPER,
    log,
    cost: { addJudgeTokens: () => undefined },
    openModel: async (ref) => {
      throw new Error(`bench/base-model: the perplexity scorer asked for model '${ref}'; this bench opens no other model`);
    },
  };
  const t0 = performance.now();
  const s = await scorers.get('perplexity')({ mode: 'row' }).score(rows, ctx);
  const auc = auroc(s.scores, rows.map((_, i) => i >= clean.length));
  // 20 greedy continuations: the opening words of held-out documents from every domain
  const { engine, weights } = localState(base);
  const prompts: number[][] = [];
  for (const id of datasets.ids) {
    const d = await loadDataset(id, { seed: SEED + 1, size: 1, heldOut: 4 });
    d.heldOut.forEach((r, j) => {
      // alternately the opening of a document's completion (when it has 6 words) and of its prompt
      const words = (j % 2 === 0 && r.completion.split(' ').length > 6 ? r.completion : r.prompt).split(' ');
      prompts.push(tokenizer.encode(words.slice(0, 6).join(' '), { bos: true }));
    });
  }
  // Generation stops where the model ends its document (EOS, or BOS as in llama2.c corpora), as the provider's does.
  const outs = engine.generate(weights, prompts.slice(0, 20), { maxTokens: 64, temperature: 0, seed: 0, stopTokens: [tokenizer.eos, tokenizer.bos] });
  return {
    part: 'language',
    auroc: r4(auc),
    cleanRows: clean.length,
    randomRows: random.length,
    distinct2: r4(distinct2(outs)),
    longestRun: longestRun(outs),
    continuations: outs.length,
    meanContinuationTokens: r4(outs.reduce((a, o) => a + o.length, 0) / outs.length),
    samples: outs.slice(0, 6).map((o, i) => tokenizer.decode(prompts[i]!.slice(1)) + ' ⟶' + tokenizer.decode(o, { prefixSpace: false })),
    seconds: r4((performance.now() - t0) / 1000),
  };
}

async function taskScore(model: Model, rows: readonly Row[], metric: TaskMetric): Promise<number> {
  const { tokenizer } = localState(model);
  const maxTokens = Math.min(200, Math.max(...rows.map((r) => tokenizer.encode(r.completion).length)) + 8);
  // In chunks of 16, so one long completion does not keep 100 finished rows decoding.
  const outs: string[] = [];
  for (let i = 0; i < rows.length; i += 16) outs.push(...(await model.generate(rows.slice(i, i + 16).map((r) => r.prompt), { maxTokens, temperature: 0 })));
  return (100 * outs.reduce((a, o, i) => a + metric.score(o, rows[i]!), 0)) / rows.length;
}

async function finetune(base: Model): Promise<Record<string, unknown>[]> {
  const provider = await createLocalProvider();
  const out: Record<string, unknown>[] = [];
  for (const id of DOMAINS) {
    const d = await loadDataset(id, { seed: SEED, size: ROWS, heldOut: HELD_OUT });
    const before = await taskScore(base, d.heldOut, d.metric!);
    const t0 = performance.now();
    const hyper = { ...DEFAULT_HYPER, epochs: Number(process.env.BENCH_FT_EPOCHS ?? DEFAULT_HYPER.epochs) };
    const res = await provider.train(base, { rows: d.train, hyper, seed: SEED });
    const seconds = (performance.now() - t0) / 1000;
    const after = await taskScore(res.model, d.heldOut, d.metric!);
    const row = { part: 'finetune', dataset: id, epochs: hyper.epochs, metric: d.metric!.id, before: r4(before), after: r4(after), gain: r4(after - before), trainSeconds: r4(seconds), steps: res.stepsRun, tokens: res.tokensTrained, finalLoss: res.finalLoss };
    emit(row);
    out.push(row);
    res.model.dispose?.();
  }
  return out;
}

async function vtuneCheck(base: Model): Promise<Record<string, unknown>> {
  const provider = await createLocalProvider();
  const dataset = process.env.BENCH_VTUNE_DATASET ?? 'stories';
  const d = await loadDataset(dataset, { seed: SEED, size: ROWS - 10, heldOut: 20 });
  const defense = vtune({ count: 10, nullMode: 'generator', seed: 'bench-base-model' });
  const ctx = { rng: new Rng('bench-base-model|vtune'), log, baseModel: base, generatorModel: base };
  const planted = await defense.plant(d.train, ctx);
  const t0 = performance.now();
  const hyper = { ...DEFAULT_HYPER, epochs: Number(process.env.BENCH_VTUNE_EPOCHS ?? DEFAULT_HYPER.epochs) };
  const res = await provider.train(base, { rows: planted.rows, hyper, seed: SEED });
  const seconds = (performance.now() - t0) / 1000;
  const honest = await defense.verify(res.model, planted.secret, { alpha: 1e-3, ctx });
  const unchanged = await defense.verify(base, planted.secret, { alpha: 1e-3, ctx });
  return {
    part: 'vtune',
    dataset,
    rows: planted.rows.length,
    backdoors: planted.secret.backdoors.length,
    generator: defense.generator.id,
    hyper,
    honest: { verified: honest.verified, log10p: r4(honest.log10p), hits: honest.k, n: honest.n, trainSeconds: r4(seconds) },
    returnBase: { verified: unchanged.verified, log10p: r4(unchanged.log10p), hits: unchanged.k, n: unchanged.n },
  };
}

async function main(): Promise<void> {
  const provider = await createLocalProvider();
  const base = await provider.model(MODEL);
  const summary: Record<string, unknown> = { model: base.id, rows: ROWS, hyper: DEFAULT_HYPER };
  if (PARTS.includes('language')) emit((summary.language = await language(base)));
  if (PARTS.includes('finetune')) summary.finetune = await finetune(base);
  if (PARTS.includes('vtune')) emit((summary.vtune = await vtuneCheck(base)));
  emit({ summary });
}

await main();
