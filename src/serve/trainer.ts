/**
 * What `serve` does with a fine-tuning job: honestly train the base model on the uploaded rows, or — with
 * `--attack <id>` — play a dishonest provider by running that attack's provider side (runProviderSide), which
 * sees the uploaded rows and nothing else (no secret ever reaches the server). Trained models are written to
 * the job's artifact folder through the provider's saveModel, so a restarted server re-opens them instead of
 * training again; an attack's provider side is replayed on restart through the same on-disk training cache
 * (its wrappers are code, not weights, and are deterministic given the job seed).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProviderError } from '../errors.js';
import { streamFor } from '../rng.js';
import type { Attack, HyperParams, Logger, Model, Progress, Provider, ProviderContext, Row, TrainExample, TrainResult } from '../types.js';

/** One training job as the trainer sees it. */
export interface ServeTrainInput {
  readonly rows: readonly TrainExample[];
  readonly hyper: HyperParams;
  readonly seed: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: Progress) => void;
  /** A folder private to this job, for model artifacts. */
  readonly artifactDir: string;
}

/** What a finished job reports back (measured by the trainer). */
export interface ServeTrainOutput {
  readonly model: Model;
  readonly tokensTrained: number;
  readonly stepsRun: number;
  readonly finalLoss?: number;
}

/** The training back end of `serve`. */
export interface ServeTrainer {
  /** The base model's id as clients name it (e.g. `local:random-tiny`). */
  readonly baseModelId: string;
  /** Short description for the startup line ("honest", "attack return-base"). */
  readonly mode: string;
  base(): Promise<Model>;
  train(input: ServeTrainInput): Promise<ServeTrainOutput>;
  /** Re-opens the model of a job that finished before a restart. */
  restore(input: ServeTrainInput): Promise<Model>;
}

/** The training cache contract of the pipeline (src/pipeline/cell.ts), restated structurally. */
export interface TrainCacheLike {
  getOrTrain(key: string, provider: Provider, train: () => Promise<TrainResult>): Promise<TrainResult & { cached: boolean }>;
}

/** The pipeline's runProviderSide (src/pipeline/provider-side.ts), restated structurally. */
export type ProviderSideFn<A extends { readonly id: string } = Attack> = (
  attack: A,
  rows: readonly Row[],
  ctx: ProviderContext,
  opts: { trainCache?: TrainCacheLike; trainingSeed?: number; onTrained?(r: TrainResult): void; onProgress?(p: Progress): void },
) => Promise<{ model: Model; trace: unknown }>;

interface ArtifactMeta {
  readonly stepsRun: number;
  readonly tokensTrained: number;
  readonly finalLoss?: number;
}

/** A training cache in a folder, through the provider's saveModel/loadModel (in memory when it has none). */
export function diskTrainCache(dir: string, log?: Logger): TrainCacheLike {
  const memory = new Map<string, TrainResult>();
  return {
    async getOrTrain(key, provider, train) {
      const safe = key.replace(/[^A-Za-z0-9]/g, '').slice(0, 64) || 'default';
      const modelPath = join(dir, `${safe}.model`);
      const metaPath = join(dir, `${safe}.meta.json`);
      const hit = memory.get(safe);
      if (hit) return { ...hit, cached: true };
      if (provider.loadModel && existsSync(modelPath) && existsSync(metaPath)) {
        const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as ArtifactMeta;
        const model = await provider.loadModel(modelPath);
        const result = { model, ...meta };
        memory.set(safe, result);
        return { ...result, cached: true };
      }
      const result = await train();
      memory.set(safe, result);
      if (provider.saveModel) {
        await provider.saveModel(result.model, modelPath);
        const meta: ArtifactMeta = { stepsRun: result.stepsRun, tokensTrained: result.tokensTrained, ...(result.finalLoss !== undefined ? { finalLoss: result.finalLoss } : {}) };
        writeFileSync(`${metaPath}.tmp`, JSON.stringify(meta));
        renameSync(`${metaPath}.tmp`, metaPath);
      } else {
        log?.warn(`provider '${provider.id}' cannot save models: a restarted server will train this job again`);
      }
      return { ...result, cached: false };
    },
  };
}

/** The honest trainer: exactly the promised fine-tune through `provider.train`. */
export function honestTrainer(provider: Provider, baseName: string, log?: Logger): ServeTrainer {
  if (!provider.train) throw new ProviderError(`provider '${provider.id}' cannot train (no 'train' capability)`);
  let basePromise: Promise<Model> | undefined;
  const base = () => (basePromise ??= provider.model(baseName));
  const run = async (input: ServeTrainInput) => {
    const b = await base();
    return diskTrainCache(input.artifactDir, log).getOrTrain('honest', provider, () =>
      provider.train!(b, { rows: input.rows, hyper: input.hyper, seed: input.seed, signal: input.signal, onProgress: input.onProgress }),
    );
  };
  return {
    baseModelId: `${provider.id}:${baseName}`,
    mode: 'honest',
    base,
    train: async (input) => {
      const r = await run(input);
      return { model: r.model, tokensTrained: r.tokensTrained, stepsRun: r.stepsRun, ...(r.finalLoss !== undefined ? { finalLoss: r.finalLoss } : {}) };
    },
    restore: async (input) => (await run(input)).model,
  };
}

/** The dishonest trainer: the attack's provider side, exactly as the benchmark runs it. */
export function attackTrainer<A extends { readonly id: string }>(provider: Provider, baseName: string, attack: A, runProviderSide: ProviderSideFn<A>, log: Logger): ServeTrainer {
  let basePromise: Promise<Model> | undefined;
  const base = () => (basePromise ??= provider.model(baseName));
  const run = async (input: ServeTrainInput) => {
    const b = await base();
    let trained: TrainResult | undefined;
    const ctx: ProviderContext = {
      rng: streamFor(`serve|${attack.id}|${input.seed}`, 'provider'),
      base: b,
      provider,
      hyper: input.hyper,
      log,
      ...(input.signal ? { signal: input.signal } : {}),
      cost: { addJudgeTokens: () => {} },
    };
    const { model } = await runProviderSide(attack, input.rows, ctx, {
      trainCache: diskTrainCache(input.artifactDir, log),
      trainingSeed: input.seed,
      onTrained: (r) => (trained = r),
      ...(input.onProgress ? { onProgress: input.onProgress } : {}),
    });
    return { model, trained };
  };
  return {
    baseModelId: `${provider.id}:${baseName}`,
    mode: `attack ${attack.id}`,
    base,
    train: async (input) => {
      const { model, trained } = await run(input);
      return {
        model,
        tokensTrained: trained?.tokensTrained ?? 0,
        stepsRun: trained?.stepsRun ?? 0,
        ...(trained?.finalLoss !== undefined ? { finalLoss: trained.finalLoss } : {}),
      };
    },
    restore: async (input) => (await run(input)).model,
  };
}
