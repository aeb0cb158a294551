/**
 * `vtune-bench calibrate`: cheap null trials that measure the Type-I error of every null mode (issue 13,
 * DESIGN.md §3) — of vTune's generator configurations (`--generator`) and of any registered defense with its
 * options (`--defense`, issue 19). Fresh secrets are planted and verified against models that never saw them —
 * the base model and backdoor-free fine-tunes from the training cache — so only verification runs. Writes
 * `calibration.jsonl` (one record per trial; resumable), the Type-I table and the calibration plot into
 * `<results>/calibration/<name>/`, where `report` and `run --publish` find them.
 */
import { join, resolve } from 'node:path';
import { cacheRoot } from '../../runner/train-cache.js';
import { ConfigError } from '../../errors.js';
import { calibrate, DEFAULT_ALPHAS, type DefenseConfig, type GeneratorConfig } from '../../calibrate/index.js';
import { defenses } from '../../../defenses/index.js';
import { generators } from '../../../defenses/vtune/generators/index.js';
import { shownPath, stderrLogger } from './run.js';
import type { CliCommand } from './types.js';

function jsonObject(text: string, option: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    // The text is not quoted (nor JSON.parse's message, which quotes it): it may hold a secret option (keyed's key).
    const at = /position (\d+)/.exec(err instanceof Error ? err.message : '')?.[1];
    throw new ConfigError(`--${option}: expected a JSON object, e.g. '{"temperature": 1}', got text that is not valid JSON${at ? ` (at character ${at})` : ''}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(`--${option}: expected a JSON object, got ${Array.isArray(v) ? 'an array' : v === null ? 'null' : `a ${typeof v}`}`);
  return v as Record<string, unknown>;
}

/** `id` or `id:{json options}`; `common` options apply to every generator under its own. */
export function parseGeneratorSpec(spec: string, common: Record<string, unknown>): GeneratorConfig {
  const at = spec.indexOf(':');
  const id = at < 0 ? spec : spec.slice(0, at);
  if (!generators.ids.includes(id as never)) generators.get(id); // throws "unknown generator … Did you mean"
  const own = at < 0 ? {} : jsonObject(spec.slice(at + 1), 'generator');
  const options = { ...common, ...own };
  return Object.keys(options).length ? { id, options } : { id };
}

/** `id` or `id:{json options}` of a registered defense. */
export function parseDefenseSpec(spec: string): DefenseConfig {
  const at = spec.indexOf(':');
  const id = at < 0 ? spec : spec.slice(0, at);
  if (!defenses.ids.includes(id as never)) defenses.get(id); // throws "unknown defense … Did you mean"
  const options = at < 0 ? {} : jsonObject(spec.slice(at + 1), 'defense');
  return Object.keys(options).length ? { id, options } : { id };
}

/** The generators run by default when neither --generator nor --defense is given. */
const DEFAULT_GENERATORS = ['random-tokens', 'wordlist'];

/** `vtune-bench calibrate`. */
export const calibrateCommand: CliCommand = {
  command: 'calibrate',
  describe: 'Measure the Type-I error of every null mode with null trials (fresh secrets against models that never saw them)',
  builder: (y) =>
    y
      .option('generator', {
        type: 'string',
        array: true,
        describe: `vTune generators to calibrate: <id> or <id>:<JSON options> (${generators.ids.join(', ')}; default ${DEFAULT_GENERATORS.join(' and ')} when no --defense is given)`,
      })
      .option('defense', {
        type: 'string',
        array: true,
        describe: `defenses to calibrate, with their own options: <id> or <id>:<JSON options> (${defenses.ids.join(', ')}); --count, --empirical-m and --slack apply to --generator only`,
      })
      .option('generator-options', { type: 'string', describe: 'JSON options for every generator (a generator\'s own options win)' })
      .option('count', { type: 'number', default: 4, describe: 'backdoors per secret (the default scenario plants 4)' })
      .option('trials', { type: 'number', default: 3000, describe: 'null trials per (generator, null model)' })
      .option('model', { type: 'string', default: 'local:vtb-base', describe: 'base model <provider:name>: a null model itself, the base-model null\'s scorer and lm-sampled\'s sampler' })
      .option('fine-tunes', { type: 'number', default: 1, describe: 'also verify against up to this many cached fine-tunes without backdoors (found through run records; 0: base only)' })
      .option('dataset', { type: 'string', default: 'stories', describe: 'dataset whose prompts host the backdoors' })
      .option('size', { type: 'number', default: 60, describe: 'dataset rows to sample' })
      .option('null-modes', { type: 'string', array: true, describe: 'null modes to show (default: every mode the verdicts carry; all are recorded)' })
      .option('alpha', { type: 'number', array: true, default: [...DEFAULT_ALPHAS], describe: 'significance levels tabulated' })
      .option('empirical-m', { type: 'number', default: 999, describe: 'counterfactual sets of the empirical null' })
      .option('slack', { type: 'number', default: 4, describe: 'extra tokens beyond each signature at verification' })
      .option('seed', { type: 'string', default: 'calibrate', describe: 'root seed of the planting seeds (each trial gets a fresh one)' })
      .option('batch', { type: 'number', default: 256, describe: 'secrets planted and verified together (their queries share batched model calls)' })
      .option('name', { type: 'string', describe: 'output folder name under <results>/calibration/ (default: from generators, count, model)' })
      .option('results', { type: 'string', default: 'results', describe: 'results root: records searched for fine-tunes; output under its calibration/ folder' })
      .option('out', { type: 'string', describe: 'output folder (overrides --results/--name)' })
      .option('plot', { type: 'boolean', default: true, describe: 'write the calibration plot (--no-plot to skip)' })
      .option('verbose', { type: 'boolean', default: false }),
  async run(args) {
    const log = stderrLogger(Boolean(args.verbose));
    const common = args.generatorOptions !== undefined ? jsonObject(String(args.generatorOptions), 'generator-options') : {};
    const defs = ((args.defense as string[] | undefined) ?? []).map((d) => parseDefenseSpec(String(d)));
    const gens = ((args.generator as string[] | undefined) ?? (defs.length ? [] : DEFAULT_GENERATORS)).map((g) => parseGeneratorSpec(String(g), common));
    const model = String(args.model);
    const parts = [...(gens.length ? [`${[...new Set(gens.map((g) => g.id))].join('+')}-n${Number(args.count)}`] : []), ...new Set(defs.map((d) => d.id))];
    const name = args.name ? String(args.name) : `${parts.join('+')}-${model.replace(/[^A-Za-z0-9._-]+/g, '_')}`;
    if (name.includes('/') || name.includes('\\') || name.startsWith('.')) throw new ConfigError(`--name must be a plain folder name, got '${name}'`);
    const resultsRoot = resolve(String(args.results));
    const outDir = args.out ? resolve(String(args.out)) : join(resultsRoot, 'calibration', name);
    let last = 0;
    const outcome = await calibrate(
      {
        generators: gens,
        ...(defs.length ? { defenses: defs } : {}),
        count: Number(args.count),
        trials: Number(args.trials),
        dataset: { spec: String(args.dataset), size: Number(args.size) },
        empiricalM: Number(args.empiricalM),
        slack: Number(args.slack),
        seed: String(args.seed),
        batch: Number(args.batch),
      },
      {
        model,
        fineTunes: Number(args.fineTunes),
        resultsRoot,
        cacheTrainRoot: join(cacheRoot(), 'train'),
        outDir,
        ...(args.nullModes ? { nullModes: (args.nullModes as string[]).map(String) } : {}),
        alphas: (args.alpha as number[]).map(Number),
        plot: args.plot !== false,
        log,
        onProgress: (p) => {
          const now = Date.now();
          if (now - last < 1000 && p.done < p.total) return;
          last = now;
          process.stderr.write(`calibrate: ${p.generator} × ${p.nullModel}: ${p.done}/${p.total} trials (${p.trialsPerSecond.toFixed(1)} trials/s this run)\n`);
        },
      },
    );
    const { result } = outcome;
    for (const w of result.warnings) log.warn(`${w.message} (${w.trials} trials)`);
    const secs = result.durationMs / 1000;
    process.stdout.write(
      `${outcome.markdown}\n` +
        `null models: ${outcome.nullModels.join(', ')}\n` +
        `${result.ran} trials run now, ${result.reused} reused from ${shownPath(outcome.files[0]!)}, in ${secs.toFixed(1)} s` +
        `${result.ran > 0 ? ` (${(result.ran / secs).toFixed(1)} trials/s)` : ''}\n` +
        `written: ${outcome.files.map(shownPath).join(', ')}\n`,
    );
    return 0;
  },
};
