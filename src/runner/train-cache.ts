/**
 * The content-addressed training cache on disk (DESIGN.md §4): the pipeline computes the key (provider, base
 * model, exact training rows, hyper-parameters, seed); this stores the trained model with the provider's
 * saveModel and the training measurements beside it, under `.cache/train/` or `$VTUNE_CACHE/train/`.
 * Honest and inference-stage attacks share one fine-tune, and a re-run trains nothing.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../shared-path.js';
import type { Logger, Provider, TrainResult } from '../types.js';
import type { TrainCache } from './contract.js';

/** What is stored next to the model file. */
interface CacheMeta {
  readonly providerId: string;
  readonly stepsRun: number;
  readonly tokensTrained: number;
  readonly finalLoss?: number;
  readonly costUsd?: number;
}

/** The cache root: `$VTUNE_CACHE` or `<repo>/.cache`. */
export function cacheRoot(): string {
  return process.env.VTUNE_CACHE ?? join(repoRoot, '.cache');
}

/** A TrainCache persisted under `<root>/train/<key[0..2]>/<key>/`. */
export class DiskTrainCache implements TrainCache {
  private readonly inFlight = new Map<string, Promise<TrainResult & { cached: boolean; owned: boolean }>>();
  /**
   * Fine-tunes run and reused in this process, and wall milliseconds spent training, loading entries (reused)
   * and saving them (the cache's own I/O: GGUF write and read).
   */
  readonly stats = { trained: 0, reused: 0, trainMs: 0, loadMs: 0, saveMs: 0 };

  constructor(
    readonly root: string = join(cacheRoot(), 'train'),
    private readonly log?: Logger,
  ) {}

  getOrTrain(key: string, provider: Provider, train: () => Promise<TrainResult>): Promise<TrainResult & { cached: boolean; owned?: boolean }> {
    if (!/^[A-Za-z0-9_-]{8,128}$/.test(key)) throw new Error(`training cache key must be 8–128 url-safe characters, got '${key}'`);
    // Two concurrent cells wanting the same fine-tune wait for one training, never run two. The one waiting
    // then loads its own copy of the entry the training saved, so that each cell owns (and disposes) its
    // model; with a provider that cannot save models the two share it, and neither disposes it. If the saved
    // entry cannot be read back, the waiter trains its own model rather than share one the first cell owns
    // (and will dispose under it).
    const pending = this.inFlight.get(key);
    if (pending) return pending.then(async (r) => (r.owned ? ((await this.lookup(key, provider)) ?? (await this.trainOwn(train))) : { ...r, cached: true, owned: false }));
    const job = this.lookupOrTrain(key, provider, train).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, job);
    return job;
  }

  /** The stored entry of `key` (a fresh copy of its model, the caller's to dispose), or undefined. */
  private async lookup(key: string, provider: Provider): Promise<(TrainResult & { cached: true; owned: true }) | undefined> {
    const dir = join(this.root, key.slice(0, 2), key);
    const metaPath = join(dir, 'meta.json');
    if (!persistent(provider) || !existsSync(metaPath)) return undefined;
    try {
      const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as CacheMeta;
      if (meta.providerId !== provider.id) return undefined;
      const t0 = performance.now();
      const model = await provider.loadModel!(join(dir, 'model'));
      this.stats.loadMs += performance.now() - t0;
      this.stats.reused++;
      return { model, stepsRun: meta.stepsRun, tokensTrained: meta.tokensTrained, finalLoss: meta.finalLoss, costUsd: meta.costUsd, cached: true, owned: true };
    } catch (err) {
      // A damaged entry (disk full, killed mid-write before the rename) is retrained, not fatal.
      this.log?.warn(`training cache entry ${key} unreadable, retraining: ${(err as Error).message}`);
      return undefined;
    }
  }

  /** Trains without touching the stored entry: a model for the caller alone. */
  private async trainOwn(train: () => Promise<TrainResult>): Promise<TrainResult & { cached: false; owned: true }> {
    const t0 = performance.now();
    const result = await train();
    this.stats.trainMs += performance.now() - t0;
    this.stats.trained++;
    return { ...result, cached: false, owned: true };
  }

  private async lookupOrTrain(key: string, provider: Provider, train: () => Promise<TrainResult>): Promise<TrainResult & { cached: boolean; owned: boolean }> {
    const hit = await this.lookup(key, provider);
    if (hit) return hit;
    const dir = join(this.root, key.slice(0, 2), key);
    const result = await this.trainOwn(train);
    if (persistent(provider)) {
      const t1 = performance.now();
      const tmp = `${dir}.tmp-${process.pid}`;
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp, { recursive: true });
      await provider.saveModel!(result.model, join(tmp, 'model'));
      const meta: CacheMeta = {
        providerId: provider.id,
        stepsRun: result.stepsRun,
        tokensTrained: result.tokensTrained,
        ...(result.finalLoss !== undefined && { finalLoss: result.finalLoss }),
        ...(result.costUsd !== undefined && { costUsd: result.costUsd }),
      };
      writeFileSync(join(tmp, 'meta.json'), JSON.stringify(meta));
      // The rename makes the entry appear whole or not at all.
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(join(this.root, key.slice(0, 2)), { recursive: true });
      renameSync(tmp, dir);
      this.stats.saveMs += performance.now() - t1;
    }
    // Saved to disk, the trained model is the caller's alone (the cache keeps no reference to it).
    return { ...result, owned: persistent(provider) };
  }
}

/** Whether the cache can store a provider's models (it saves and loads them). */
function persistent(provider: Provider): boolean {
  return typeof provider.saveModel === 'function' && typeof provider.loadModel === 'function';
}
