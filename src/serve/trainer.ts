/**
 * What `serve` does with a fine-tuning job: honestly train the base model on the uploaded rows, or — with
 * `--attack <id>` — play a dishonest provider by running that attack's provider side (runProviderSide), which
 * sees the uploaded rows and nothing else (no secret ever reaches the server).
 *
 * A finished model lives on in its own files, in the job's artifact folder, never in the training file (the
 * user may delete it once the job is done): the trained weights are written through the provider's saveModel
 * (GGUF for the embedded engine) and re-opened from there after a restart. An attack's wrappers are code, not
 * weights, and some of them use the rows they were given at inference (lookup, routing), so a dishonest
 * server also keeps its own copy of the rows it received beside the weights and replays its provider side
 * from that copy and the saved weights (deterministic given the job seed).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { missingAccess } from '../core/access.js';
import type { AnyAttack } from '../core/attack.js';
import { parseModelRef } from '../core/models.js';
import type { TrainCache } from '../core/training.js';
import { ConfigError, ProviderError } from '../errors.js';
import type { runProviderSide } from '../pipeline/provider-side.js';
import { streamFor } from '../rng.js';
import type { HyperParams, Logger, Model, Progress, Provider, ProviderContext, TrainExample, TrainResult } from '../types.js';
import { makePrivate, writePrivate } from './store.js';

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
  /**
   * Re-opens the model of a job that finished before a restart, from what `train` left in the job's
   * artifact folder alone (the training file may be gone).
   */
  restore(artifactDir: string): Promise<Model>;
}

/** The pipeline's provider side (src/pipeline/provider-side.ts runProviderSide), which the caller hands in. */
export type ProviderSideFn = typeof runProviderSide;

interface ArtifactMeta {
  readonly stepsRun: number;
  readonly tokensTrained: number;
  readonly finalLoss?: number;
}

/** A training cache in a folder, through the provider's saveModel/loadModel (in memory when it has none). */
export function diskTrainCache(dir: string, log?: Logger): TrainCache & { load(key: string, provider: Provider): Promise<TrainResult | undefined> } {
  const memory = new Map<string, TrainResult>();
  const paths = (key: string) => {
    const safe = key.replace(/[^A-Za-z0-9]/g, '').slice(0, 64) || 'default';
    return { safe, modelPath: join(dir, `${safe}.model`), metaPath: join(dir, `${safe}.meta.json`) };
  };
  async function load(key: string, provider: Provider): Promise<TrainResult | undefined> {
    const { safe, modelPath, metaPath } = paths(key);
    const hit = memory.get(safe);
    if (hit) return hit;
    if (!provider.loadModel || !existsSync(modelPath) || !existsSync(metaPath)) return undefined;
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as ArtifactMeta;
    const result = { model: await provider.loadModel(modelPath), ...meta };
    memory.set(safe, result);
    return result;
  }
  return {
    load,
    async getOrTrain(key, provider, train) {
      const { safe, modelPath, metaPath } = paths(key);
      const loaded = await load(key, provider);
      if (loaded) return { ...loaded, cached: true };
      const result = await train();
      memory.set(safe, result);
      if (provider.saveModel) {
        await provider.saveModel(result.model, modelPath);
        makePrivate(modelPath);
        const meta: ArtifactMeta = { stepsRun: result.stepsRun, tokensTrained: result.tokensTrained, ...(result.finalLoss !== undefined ? { finalLoss: result.finalLoss } : {}) };
        writePrivate(metaPath, JSON.stringify(meta));
      } else {
        log?.warn(`provider '${provider.id}' cannot save models: this model will not survive a restart of the server`);
      }
      return { ...result, cached: false };
    },
  };
}

/** The rows a dishonest server received, kept beside the model it made of them (see the module comment). */
const ROWS_FILE = 'rows.json';

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
    restore: async (artifactDir) => {
      const saved = await diskTrainCache(artifactDir, log).load('honest', provider);
      if (!saved) throw new ProviderError(`the fine-tuned model's weights were not saved (provider '${provider.id}' ${provider.saveModel ? 'wrote no model file' : 'cannot save models'}): train it again`);
      return saved.model;
    },
  };
}

/** The dishonest trainer: the attack's provider side, exactly as the benchmark runs it. */
export function attackTrainer(provider: Provider, baseName: string, attack: AnyAttack, runProviderSide: ProviderSideFn, log: Logger): ServeTrainer {
  let basePromise: Promise<Model> | undefined;
  // The attack's declared access is checked against the provider when the base model first opens (at startup).
  const base = () =>
    (basePromise ??= provider.model(baseName).then((b) => {
      const missing = missingAccess(attack, provider, b);
      if (missing) throw new ConfigError(`attack ${missing.message}`);
      return b;
    }));
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
      // A server runs one provider: an attack's other models (a judge) come from it too.
      async openModel(ref) {
        const { provider: id, name } = parseModelRef(ref);
        if (id !== provider.id) throw new ConfigError(`attack '${attack.id}' asks for model '${ref}', but this server runs provider '${provider.id}' only`);
        return provider.model(name);
      },
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
      writePrivate(join(input.artifactDir, ROWS_FILE), JSON.stringify({ rows: input.rows, hyper: input.hyper, seed: input.seed }));
      const { model, trained } = await run(input);
      return {
        model,
        tokensTrained: trained?.tokensTrained ?? 0,
        stepsRun: trained?.stepsRun ?? 0,
        ...(trained?.finalLoss !== undefined ? { finalLoss: trained.finalLoss } : {}),
      };
    },
    restore: async (artifactDir) => {
      const path = join(artifactDir, ROWS_FILE);
      if (!existsSync(path)) throw new ProviderError(`the attack's copy of the training rows was not saved with the model: train it again`);
      const saved = JSON.parse(readFileSync(path, 'utf8')) as { rows: TrainExample[]; hyper: HyperParams; seed: number };
      return (await run({ ...saved, artifactDir })).model;
    },
  };
}
