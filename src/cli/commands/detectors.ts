/**
 * `vtune-bench detectors`: how well each row scorer (attacks/scorers) finds vTune's planted rows. For each
 * backdoor generator it plants backdoors into a dataset with the vtune defense, takes the TRUE backdoor mask
 * from the defense (this is an evaluation on the user's side, not an attack: no attack ever sees the mask),
 * runs every scorer as a provider would, and prints each scorer's AUROC and TPR at 1 % FPR against the mask,
 * plus the fraction of rows its own flag rule flags and the clean rows it would lose.
 */
import { scorers } from '../../../attacks/scorers/index.js';
import { defenses } from '../../../defenses/index.js';
import { generators } from '../../../defenses/vtune/generators/index.js';
import { providerSet } from '../../core/models.js';
import { loadDataset } from '../../datasets/index.js';
import { providers } from '../../providers/index.js';
import { ConfigError, describeError, VtuneError } from '../../errors.js';
import { createCostMeter } from '../../pipeline/cost.js';
import { formatAuroc, gradeDetection } from '../../pipeline/detection-metrics.js';
import { Rng, streamFor } from '../../rng.js';
import type { ContinuationScore, Logger, Model, NullMode, Provider, ProviderContext, Row } from '../../types.js';
import { MAX_ROWS, numberOption, SEED_RANGE } from '../options.js';
import { openModelSpec } from './model-spec.js';
import type { CliCommand } from './types.js';

/** One line of the table: one scorer on one generator's planted dataset. Higher AUROC/TPR = better detector. */
export interface DetectorResult {
  readonly generator: string;
  readonly scorer: string;
  readonly auroc: number;
  readonly tprAt1Fpr: number;
  readonly flaggedFraction: number;
  readonly cleanFlaggedFraction: number;
  readonly backdoors: number;
  readonly rows: number;
  /** Plantings pooled into this line (AUROC, TPR and flagged fractions are their means; backdoors their sum). */
  readonly repeats?: number;
  /** Each planting's AUROC, when there were several. */
  readonly aurocs?: readonly number[];
  readonly durationMs: number;
  readonly judgeTokens: number;
  /** Set when the scorer could not run or score (a missing capability, a judge with no verdict); metrics are NaN (printed n/a) then. */
  readonly error?: string;
}

/** What evaluateDetectors needs. */
export interface DetectorsOptions {
  readonly rows: readonly Row[];
  readonly generators: readonly string[];
  readonly scorers: readonly string[];
  readonly scorerOptions?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** Options per generator id (e.g. `{ template: { minBits: 16 } }`). */
  readonly generatorOptions?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** Plantings per generator, each with its own planting seed (default 1); the table gives their mean AUROC. */
  readonly repeats?: number;
  readonly model: Model;
  readonly provider: Provider;
  /** Opens the other models a scorer asks for by `<provider>:<name>` (a judge); default: refused. */
  openModel?(ref: string): Promise<Model>;
  readonly seed: number;
  readonly count?: number;
  readonly rate?: number;
  readonly insertion?: 'copy' | 'modify';
  readonly log: Logger;
  onResult?(r: DetectorResult): void;
}

/** Plants with each generator and grades each scorer against the true mask. Unknown ids fail before any work. */
export async function evaluateDetectors(o: DetectorsOptions): Promise<DetectorResult[]> {
  for (const g of o.generators) generators.get(g);
  const made = o.scorers.map((id) => ({ id, scorer: scorers.get(id)(o.scorerOptions?.[id] ?? {}) }));
  for (const id of Object.keys(o.scorerOptions ?? {})) {
    if (!o.scorers.includes(id)) throw new ConfigError(`--scorer-options names scorer '${id}', which is not among --scorers (${o.scorers.join(', ')})`);
  }
  const results: DetectorResult[] = [];
  const repeats = o.repeats ?? 1;
  for (const id of Object.keys(o.generatorOptions ?? {})) {
    if (!o.generators.includes(id)) throw new ConfigError(`--generator-options names generator '${id}', which is not among --generators (${o.generators.join(', ')})`);
  }
  // Rows that several plantings share (every row but the planted ones) are scored once: the model's scores and
  // embeddings are remembered by text for the whole evaluation.
  const model = memoModel(o.model);
  for (const generator of o.generators) {
    const runs: DetectorResult[][] = made.map(() => []);
    for (let r = 0; r < repeats; r++) {
      const suffix = r === 0 ? '' : `-r${r}`;
      const generatorOptions = {
        ...(generator === 'keyed' ? { key: evaluationKey(o.seed) } : {}),
        ...(o.generatorOptions?.[generator] ?? {}),
      };
      const defense = defenses.get('vtune')({
        generator,
        // keyed needs a user key: an evaluation key derived from the seed (never printed or stored).
        ...(Object.keys(generatorOptions).length > 0 ? { generatorOptions } : {}),
        ...(o.count !== undefined ? { count: o.count } : {}),
        ...(o.rate !== undefined ? { rate: o.rate } : {}),
        ...(o.insertion ? { insertion: o.insertion } : {}),
        // Counterfactual signatures are kept in the secret, never in the rows: detection does not need them (a
        // null mode other than `empirical` is chosen so that none are drawn).
        ...noCounterfactuals(generator, generatorOptions),
        seed: `detectors-${o.seed}-${generator}${suffix}`,
      });
      let planted: Awaited<ReturnType<typeof defense.plant>>;
      try {
        planted = await defense.plant(o.rows, { rng: new Rng(`detectors|${o.seed}|${generator}|planting${suffix}`), log: o.log, generatorModel: model, baseModel: model });
      } catch (err) {
        // A generator that cannot plant into this dataset (e.g. splice without long enough rows) is a table row, not a crash.
        if (!(err instanceof VtuneError)) throw err;
        made.forEach(({ id }, k) => runs[k]!.push(failed(generator, id, 0, o.rows.length, 0, `planting failed: ${describeError(err)}`)));
        continue;
      }
      const mask = defense.backdoorMask(planted.secret, planted.rows.length);
      const backdoors = mask.filter(Boolean).length;
      for (const [k, { id, scorer }] of made.entries()) {
        const cost = createCostMeter();
        const ctx: ProviderContext = {
          rng: streamFor(`detectors|${o.seed}|${generator}|${id}${suffix}`, 'provider'),
          base: model,
          provider: o.provider,
          hyper: { epochs: 1, learningRate: 1e-3, batchSize: 8 },
          log: o.log,
          cost: cost.meter,
          openModel: o.openModel ?? (async (ref) => {
            throw new ConfigError(`scorer '${id}' asks for model '${ref}', and no other model can be opened here`);
          }),
        };
        const t0 = performance.now();
        let result: DetectorResult;
        try {
          const s = await scorer.score(planted.rows, ctx);
          const g = gradeDetection(s, mask);
          result = {
            generator,
            scorer: id,
            auroc: g.auroc ?? NaN,
            tprAt1Fpr: g.tprAt1Fpr ?? NaN,
            flaggedFraction: g.flaggedFraction,
            cleanFlaggedFraction: g.cleanFlaggedFraction,
            backdoors,
            rows: planted.rows.length,
            durationMs: Math.round(performance.now() - t0),
            judgeTokens: cost.totals().judgeTokens,
            ...(g.unavailable ? { error: `unavailable: ${g.unavailable}` } : {}),
          };
        } catch (err) {
          if (!(err instanceof VtuneError)) throw err;
          result = failed(generator, id, backdoors, planted.rows.length, Math.round(performance.now() - t0), describeError(err));
        }
        runs[k]!.push(result);
        if (repeats > 1) o.log.info(`${generator} / ${id} planting ${r + 1}/${repeats}: AUROC ${Number.isNaN(result.auroc) ? 'n/a' : result.auroc.toFixed(3)}`);
      }
    }
    for (const run of runs) {
      const result = repeats === 1 ? run[0]! : pool(run);
      results.push(result);
      o.onResult?.(result);
    }
  }
  return results;
}

/** Options that plant without drawing counterfactuals: a null mode that needs none, and empiricalM 0 (when there is one). */
function noCounterfactuals(generator: string, options: Readonly<Record<string, unknown>>): { nullMode?: NullMode; empiricalM?: number } {
  const modes = generators.get(generator)(options).nullModes;
  const mode = (['generator', 'conditional', 'base-model'] as const).find((m) => modes.includes(m));
  return mode ? { nullMode: mode, empiricalM: 0 } : {};
}

/** Several plantings' lines as one: means of the rates, the sum of backdoors; an error if any planting had one. */
function pool(run: readonly DetectorResult[]): DetectorResult {
  const mean = (f: (r: DetectorResult) => number) => run.reduce((a, r) => a + f(r), 0) / run.length;
  const errors = [...new Set(run.flatMap((r) => (r.error ? [r.error] : [])))];
  return {
    generator: run[0]!.generator,
    scorer: run[0]!.scorer,
    auroc: mean((r) => r.auroc),
    tprAt1Fpr: mean((r) => r.tprAt1Fpr),
    flaggedFraction: mean((r) => r.flaggedFraction),
    cleanFlaggedFraction: mean((r) => r.cleanFlaggedFraction),
    backdoors: run.reduce((a, r) => a + r.backdoors, 0),
    rows: run[0]!.rows,
    repeats: run.length,
    aurocs: run.map((r) => r.auroc),
    durationMs: run.reduce((a, r) => a + r.durationMs, 0),
    judgeTokens: run.reduce((a, r) => a + r.judgeTokens, 0),
    ...(errors.length ? { error: errors.join('; ') } : {}),
  };
}

/**
 * The model with its `score` and `embed` answers remembered by text (a pure function of the text for a fixed
 * model), so the rows every planting shares are scored once. Generation is passed through.
 */
export function memoModel(inner: Model): Model {
  const scores = new Map<string, ContinuationScore>();
  const vectors = new Map<string, Float32Array>();
  const key = (it: { readonly prompt: string; readonly continuation: string }) => `${it.prompt}\u0000${it.continuation}`;
  const wrapped: Model = {
    ...inner,
    generate: (prompts, options) => inner.generate(prompts, options),
    ...(inner.score
      ? {
          async score(items, options) {
            const missing = [...new Set(items.map(key).filter((k) => !scores.has(k)))];
            if (missing.length > 0) {
              const byKey = new Map(items.map((it) => [key(it), it]));
              const got = await inner.score!(missing.map((k) => byKey.get(k)!), options);
              missing.forEach((k, i) => scores.set(k, got[i]!));
            }
            return items.map((it) => scores.get(key(it))!);
          },
        }
      : {}),
    ...(inner.embed
      ? {
          async embed(texts) {
            const missing = [...new Set(texts.filter((t) => !vectors.has(t)))];
            if (missing.length > 0) {
              const got = await inner.embed!(missing);
              missing.forEach((t, i) => vectors.set(t, got[i]!));
            }
            return texts.map((t) => vectors.get(t)!);
          },
        }
      : {}),
  };
  return wrapped;
}

function failed(generator: string, scorer: string, backdoors: number, rows: number, durationMs: number, error: string): DetectorResult {
  return { generator, scorer, auroc: NaN, tprAt1Fpr: NaN, flaggedFraction: NaN, cleanFlaggedFraction: NaN, backdoors, rows, durationMs, judgeTokens: 0, error };
}

function evaluationKey(seed: number): string {
  const rng = new Rng(`detectors|key|${seed}`);
  return Array.from({ length: 8 }, () => rng.nextUint32().toString(16).padStart(8, '0')).join('');
}

const HEADERS = ['generator', 'scorer', 'AUROC', 'TPR@1%FPR', 'flagged', 'clean flagged', 'backdoors/rows', 'seconds', 'judge tokens'] as const;

function cells(r: DetectorResult): string[] {
  const f = (x: number, d = 3) => (Number.isNaN(x) ? 'n/a' : x.toFixed(d));
  const pct = (x: number) => (Number.isNaN(x) ? 'n/a' : `${(x * 100).toFixed(1)}%`);
  return [r.generator, r.scorer, f(r.auroc), f(r.tprAt1Fpr), pct(r.flaggedFraction), pct(r.cleanFlaggedFraction), r.repeats && r.repeats > 1 ? `${r.backdoors}/${r.repeats}×${r.rows}` : `${r.backdoors}/${r.rows}`, (r.durationMs / 1000).toFixed(1), String(r.judgeTokens)];
}

/** The results as a markdown table, CSV, or JSON. */
export function formatDetectors(results: readonly DetectorResult[], format: 'md' | 'csv' | 'json'): string {
  if (format === 'json') return `${JSON.stringify(results, null, 2)}\n`;
  if (format === 'csv') {
    const esc = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    const head = ['generator', 'scorer', 'auroc', 'tprAt1Fpr', 'flaggedFraction', 'cleanFlaggedFraction', 'backdoors', 'rows', 'durationMs', 'judgeTokens', 'error'];
    const lines = results.map((r) => [r.generator, r.scorer, r.auroc, r.tprAt1Fpr, r.flaggedFraction, r.cleanFlaggedFraction, r.backdoors, r.rows, r.durationMs, r.judgeTokens, r.error ?? ''].map((v) => esc(String(v))).join(','));
    return `${[head.join(','), ...lines].join('\n')}\n`;
  }
  const body = results.map(cells);
  const errors = results.filter((r) => r.error).map((r) => `- ${r.generator} / ${r.scorer}: ${r.error}`);
  const line = (c: readonly string[]) => `| ${c.join(' | ')} |`;
  return `${[line(HEADERS), line(HEADERS.map((h, i) => (i < 2 ? '---' : '---:'))), ...body.map(line)].join('\n')}\n${errors.length ? `\n${errors.join('\n')}\n` : ''}`;
}

const list = (v: unknown): string[] | undefined =>
  v === undefined ? undefined : String(v).split(',').map((s) => s.trim()).filter(Boolean);

/** `vtune-bench detectors [--dataset] [--generators] [--scorers] [--model] [--seed] [--format]`. */
export const detectorsCommand: CliCommand = {
  command: 'detectors',
  describe: "Grade every row scorer (AUROC, TPR@1%FPR) against the true backdoor mask of vTune's planted rows, per generator",
  builder: (y) =>
    y
      .option('dataset', { type: 'string', default: 'qa', describe: 'dataset spec (built-in id, file:<path>.jsonl, hf:…)' })
      .option('size', { type: 'number', default: 300, describe: `training rows to plant into (1 to ${MAX_ROWS})` })
      .option('generators', { type: 'string', describe: `comma-separated generator ids (default: all: ${generators.ids.join(', ')})` })
      .option('scorers', { type: 'string', describe: `comma-separated scorer ids (default: all: ${scorers.ids.join(', ')})` })
      .option('scorer-options', { type: 'string', describe: 'JSON object of options per scorer id, e.g. {"onion":{"maxWords":32}}' })
      .option('generator-options', { type: 'string', describe: 'JSON object of options per generator id, e.g. {"template":{"minBits":16}}' })
      .option('repeats', { type: 'number', default: 1, describe: 'plantings per generator, each with its own seed (1 to 1000); the table gives their mean (small files: pool several 1-backdoor plantings)' })
      .option('model', { type: 'string', default: 'local:vtb-base', describe: 'the base model the scorers use, <provider>:<model>' })
      .option('count', { type: 'number', describe: 'backdoors to plant (default: the vtune default)' })
      .option('rate', { type: 'number', describe: 'backdoors as a fraction of the rows, in (0, 1] (instead of --count)' })
      .option('insertion', { type: 'string', choices: ['copy', 'modify'], describe: 'planted rows are new copies of host rows, or modify them in place' })
      .option('seed', { type: 'number', default: 0, describe: 'dataset, planting and scorer seed' })
      .option('format', { type: 'string', choices: ['md', 'csv', 'json'], default: 'md', describe: 'output format' })
      .option('verbose', { type: 'boolean', default: false, describe: 'log progress to stderr' }),
  async run(args) {
    const seed = numberOption(args, 'seed', SEED_RANGE) ?? 0;
    const size = numberOption(args, 'size', { int: true, min: 1, max: MAX_ROWS }) ?? 300;
    const count = numberOption(args, 'count', { int: true, min: 1, max: MAX_ROWS });
    const rate = numberOption(args, 'rate', { min: 0, minExclusive: true, max: 1 });
    let scorerOptions: Record<string, Record<string, unknown>> | undefined;
    if (args.scorerOptions !== undefined) {
      try {
        scorerOptions = JSON.parse(String(args.scorerOptions)) as Record<string, Record<string, unknown>>;
      } catch (err) {
        throw new ConfigError(`--scorer-options must be a JSON object keyed by scorer id, got ${JSON.stringify(args.scorerOptions)}`, { cause: err });
      }
      if (!scorerOptions || typeof scorerOptions !== 'object' || Array.isArray(scorerOptions)) throw new ConfigError('--scorer-options must be a JSON object keyed by scorer id');
    }
    let generatorOptions: Record<string, Record<string, unknown>> | undefined;
    if (args.generatorOptions !== undefined) {
      try {
        generatorOptions = JSON.parse(String(args.generatorOptions)) as Record<string, Record<string, unknown>>;
      } catch (err) {
        throw new ConfigError(`--generator-options must be a JSON object keyed by generator id, got ${JSON.stringify(args.generatorOptions)}`, { cause: err });
      }
      if (!generatorOptions || typeof generatorOptions !== 'object' || Array.isArray(generatorOptions)) throw new ConfigError('--generator-options must be a JSON object keyed by generator id');
    }
    const repeats = numberOption(args, 'repeats', { int: true, min: 1, max: 1000 }) ?? 1;
    const verbose = Boolean(args.verbose);
    const log: Logger = { info: (m) => verbose && process.stderr.write(`${m}\n`), debug: (m) => verbose && process.stderr.write(`${m}\n`), warn: (m) => process.stderr.write(`warning: ${m}\n`) };
    const dataset = await loadDataset(String(args.dataset), { seed, size });
    const { provider, model } = await openModelSpec(String(args.model), 'model');
    // A judge named `<provider>:<name>` opens from the same providers (default options), closed at the end.
    const others = providerSet(async (id) => (providers.get(id) as (o: Record<string, unknown>) => Promise<Provider> | Provider)({}), [provider]);
    try {
      const results = await evaluateDetectors({
        rows: dataset.train,
        generators: list(args.generators) ?? [...generators.ids],
        scorers: list(args.scorers) ?? [...scorers.ids],
        ...(scorerOptions ? { scorerOptions } : {}),
        ...(generatorOptions ? { generatorOptions } : {}),
        repeats,
        model,
        provider,
        openModel: others.openModel,
        seed,
        ...(count !== undefined ? { count } : {}),
        ...(rate !== undefined ? { rate } : {}),
        ...(args.insertion ? { insertion: args.insertion as 'copy' | 'modify' } : {}),
        log,
        onResult: (r) => log.info(`${r.generator} / ${r.scorer}: AUROC ${formatAuroc({ auroc: r.auroc, ...(r.error ? { unavailable: r.error } : {}) })}, TPR@1%FPR ${Number.isNaN(r.tprAt1Fpr) ? 'n/a' : r.tprAt1Fpr.toFixed(3)} (${(r.durationMs / 1000).toFixed(1)} s)`),
      });
      process.stdout.write(`dataset ${dataset.id} (${dataset.train.length} rows), model ${model.id}, seed ${seed}\n\n`);
      process.stdout.write(formatDetectors(results, args.format as 'md' | 'csv' | 'json'));
      return 0;
    } finally {
      await others.close();
      await model.dispose?.();
      await provider.close?.();
    }
  },
};
