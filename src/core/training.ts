/**
 * Training facts shared by the core and its plugins (a leaf module: it imports nothing but the contracts):
 * how many optimizer steps a fine-tune promises, and the training-cache contract the runner implements and
 * the pipeline (and `serve`) train through.
 */
import type { HyperParams, Provider, TrainResult } from '../types.js';

/** Optimizer steps promised for `rowCount` rows: hyper.maxSteps, or ⌈rows / batch⌉ × epochs (the engine's count). */
export function promisedSteps(rowCount: number, hyper: HyperParams): number {
  return hyper.maxSteps ?? Math.ceil(rowCount / hyper.batchSize) * hyper.epochs;
}

/** Content-addressed training cache (implemented by the runner on disk, and by `serve` per job). */
export interface TrainCache {
  /**
   * Returns the cached result for `key` or runs `train`, stores and returns it. key = sha256(provider, base model
   * id, exact training rows, hyper, seed). `owned`: the model is the caller's alone (the cache keeps no
   * reference to it and hands it to no one else), so the caller disposes it when done; otherwise the cache may
   * hand the same model out again and the caller must not dispose it.
   */
  getOrTrain(key: string, provider: Provider, train: () => Promise<TrainResult>): Promise<TrainResult & { cached: boolean; owned?: boolean }>;
}
