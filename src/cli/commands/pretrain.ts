/**
 * `vtune-bench pretrain`: trains the project's own base model by the recipe in src/pretrain (corpus from the
 * built-in datasets, BPE tokenizer, Llama model, warmup + cosine) and writes it as GGUF, with a JSON record of
 * the run (recipe, sha256, every step's loss, timings). Checkpoints every N steps; re-running the same command
 * resumes from the checkpoint and reproduces the same bytes.
 */
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ConfigError } from '../../errors.js';
import { DEFAULT_RECIPE, resolveRecipe, runPretrain, type PretrainRecipe } from '../../pretrain/index.js';
import { describeRange, MAX_ROWS, type NumberRange, numberOption, SEED_RANGE } from '../options.js';
import type { CliCommand } from './types.js';

/** Recipe options settable from the command line (kebab-case flags). */
const RECIPE_FLAGS: readonly (keyof PretrainRecipe)[] = ['name', 'seed', 'rowsPerDataset', 'vocabSize', 'dim', 'nLayers', 'nHeads', 'nKvHeads', 'hiddenDim', 'contextLength', 'seqLen', 'batchSize', 'steps', 'learningRate', 'warmupSteps', 'minLrRatio', 'weightDecay', 'initScale', 'threads'];
const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * The range of each numeric recipe flag: what the engine and the corpus can take on one machine (the recipe
 * itself then checks how the values fit together, e.g. seqLen ≤ contextLength).
 */
const RECIPE_RANGES: Readonly<Record<Exclude<keyof PretrainRecipe, 'name'>, NumberRange>> = {
  seed: SEED_RANGE,
  rowsPerDataset: { int: true, min: 1, max: MAX_ROWS },
  vocabSize: { int: true, min: 260, max: 65_536 },
  dim: { int: true, min: 2, max: 8192 },
  nLayers: { int: true, min: 1, max: 128 },
  nHeads: { int: true, min: 1, max: 256 },
  nKvHeads: { int: true, min: 1, max: 256 },
  hiddenDim: { int: true, min: 1, max: 32_768 },
  contextLength: { int: true, min: 2, max: 32_768 },
  seqLen: { int: true, min: 2, max: 32_768 },
  batchSize: { int: true, min: 1, max: 4096 },
  steps: { int: true, min: 1, max: 100_000_000 },
  learningRate: { min: 0, minExclusive: true, max: 1 },
  warmupSteps: { int: true, min: 0, max: 100_000_000 },
  minLrRatio: { min: 0, max: 1 },
  weightDecay: { min: 0, max: 10 },
  initScale: { min: 0, minExclusive: true, max: 1 },
  threads: { int: true, min: 1, max: 256 },
};
const STEP_COUNT: NumberRange = { int: true, min: 1, max: 100_000_000 };

/** `vtune-bench pretrain [--out F] [--checkpoint-every N] [--stop-after N] [--overwrite] [recipe options]`. */
export const pretrainCommand: CliCommand = {
  command: 'pretrain',
  describe: "Train the project's own base model (vtb-base) from the built-in domains; resumable, deterministic",
  builder: (y) => {
    let b = y
      .option('out', { type: 'string', describe: 'output GGUF (default models/<name>.gguf)' })
      .option('checkpoint-every', { type: 'number', default: 50, describe: 'steps between checkpoints (<out>.ckpt; 0: none)' })
      .option('stop-after', { type: 'number', describe: 'stop after this many steps (the schedule still spans --steps)' })
      .option('overwrite', { type: 'boolean', default: false, describe: 'replace an existing output file' });
    for (const key of RECIPE_FLAGS) {
      const v = DEFAULT_RECIPE[key];
      const range = key === 'name' ? undefined : RECIPE_RANGES[key];
      b = b.option(kebab(key), { type: typeof v === 'string' ? 'string' : 'number', describe: `recipe: ${key} (default ${String(v)}${range ? `; ${describeRange(range)}` : ''})` });
    }
    return b;
  },
  async run(args) {
    const overrides: Record<string, unknown> = {};
    for (const key of RECIPE_FLAGS) {
      if (args[key] === undefined) continue;
      overrides[key] = key === 'name' ? args[key] : numberOption(args, key, RECIPE_RANGES[key]);
    }
    const every = numberOption(args, 'checkpoint-every', { ...STEP_COUNT, min: 0 }) ?? 50;
    const stopAfter = numberOption(args, 'stop-after', STEP_COUNT);
    const r = resolveRecipe(overrides);
    const out = String(args.out ?? `models/${r.name}.gguf`);
    if (!out.endsWith('.gguf')) throw new ConfigError(`pretrain: --out must end in .gguf, got ${out}`);
    if (existsSync(out) && !args.overwrite) throw new ConfigError(`pretrain: ${out} exists; pass --overwrite to replace it`);
    await mkdir(dirname(out), { recursive: true });
    const stem = out.slice(0, -'.gguf'.length);
    const stepLog = `${stem}.steps.jsonl`;
    const ckpt = `${stem}.ckpt`;
    if (!existsSync(ckpt) && existsSync(stepLog)) await rename(stepLog, `${stepLog}.old-${Date.now()}`);
    const say = (m: string) => process.stderr.write(`${m}\n`);
    const t0 = Date.now();
    const res = await runPretrain(r, {
      checkpointPath: ckpt,
      checkpointEvery: every,
      stopAfter,
      log: say,
      onStep: (s) => {
        void appendFile(stepLog, `${JSON.stringify({ step: s.step, loss: s.loss, lr: s.lr, gradNorm: s.gradNorm })}\n`);
        const eta = `${Math.floor(s.etaSeconds / 60)}m${String(Math.round(s.etaSeconds % 60)).padStart(2, '0')}s`;
        say(`step ${s.step}/${s.totalSteps}  loss ${s.loss.toFixed(4)}  lr ${s.lr.toExponential(2)}  ${Math.round(s.tokensPerSecond)} tok/s  ETA ${eta}`);
      },
    });
    await new Promise((res2) => setTimeout(res2, 50)); // let the last appendFile land
    const steps = (existsSync(stepLog) ? await readFile(stepLog, 'utf8') : '').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { step: number; loss: number });
    const byStep = new Map(steps.map((s) => [s.step, s.loss]));
    const tmp = `${out}.tmp-${process.pid}`;
    await writeFile(tmp, res.gguf);
    await rename(tmp, out);
    const record = {
      name: r.name,
      file: out,
      sha256: res.sha256,
      bytes: res.gguf.length,
      parameters: res.parameters,
      recipe: r,
      stepsDone: res.stepsDone,
      resumedFrom: res.resumedFrom,
      corpus: res.corpus,
      seconds: { prepare: res.seconds.prepare, train: res.seconds.train, total: (Date.now() - t0) / 1000 },
      losses: [...byStep.entries()].sort((a, b) => a[0] - b[0]).map(([step, loss]) => ({ step, loss })),
    };
    await writeFile(`${stem}.run.json`, `${JSON.stringify(record, null, 1)}\n`);
    say(`wrote ${out} (${res.gguf.length} bytes, sha256 ${res.sha256}, ${res.parameters} parameters) and ${stem}.run.json`);
    return 0;
  },
};
