/**
 * Memory across the cells of a run (the leaderboard run grew ~18 MB of RSS per cell): every engine model and
 * training run lives in its own shared WebAssembly.Memory, and a shared memory is released only once every
 * thread that used it (training workers too, which are reused and rarely collect garbage) has dropped it.
 * Here a run of real-engine cells (local:random-tiny, two cells at once so that fine-tunes train on worker
 * threads, the leaderboard run's setting) must create a bounded number of memories, not some per cell, and
 * leave no engine arena in use when it ends.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeIdleWorkers } from '../../src/engine/parallel.js';
import { projectCatalog } from '../../src/runner/catalog.js';
import { runScenario } from '../../src/runner/run.js';
import { validateScenario } from '../../src/runner/scenario.js';
import { DiskTrainCache } from '../../src/runner/train-cache.js';
import type { Logger } from '../../src/types.js';

const quiet: Logger = { info: () => {}, warn: () => {}, debug: () => {} };

// Counts every WebAssembly.Memory made while this file runs (the engine makes them through the global).
const made = { n: 0 };
const Original = WebAssembly.Memory;
beforeAll(() => {
  const Counting = function (descriptor: WebAssembly.MemoryDescriptor) {
    made.n++;
    return new Original(descriptor);
  } as unknown as typeof WebAssembly.Memory;
  Counting.prototype = Original.prototype;
  (WebAssembly as { Memory: typeof WebAssembly.Memory }).Memory = Counting;
});
afterAll(async () => {
  (WebAssembly as { Memory: typeof WebAssembly.Memory }).Memory = Original;
  await closeIdleWorkers();
});

/** A run of `seeds` × 5 attacks on local:random-tiny: trained, cached, base-returning and weight-editing cells. */
function scenario(seeds: number[]) {
  return validateScenario(
    {
      name: 'memory',
      seeds,
      datasets: [{ spec: 'qa', size: 16, heldOut: 2 }],
      models: ['local:random-tiny'],
      defenses: [{ options: { generator: 'random-tokens', nullMode: 'generator', count: 2, alpha: 1e-3 } }],
      attacks: ['honest', 'return-base', 'weight-noise', 'unlearn', { id: 'random-subset', options: { fraction: 0.5 } }],
      hyper: { epochs: 1, learningRate: 1e-3, batchSize: 4 },
      utility: { maxRows: 2 },
      providers: { local: { concurrency: 2 } },
    },
    projectCatalog,
    'memory-test',
  );
}

describe('memory across the cells of a run', () => {
  it('creates a bounded number of WebAssembly memories (not some per cell) and frees every engine arena', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vtune-memory-'));
    const trainCache = new DiskTrainCache(join(root, 'cache'));
    const run = async (seeds: number[]) => {
      const r = await runScenario({ scenario: scenario(seeds), file: 'memory-test', catalog: projectCatalog, resultsRoot: root, trainCache, log: quiet });
      expect(r).toMatchObject({ failed: 0, succeeded: seeds.length * 5 });
    };
    await run([0, 1]);
    const afterFirst = made.n;
    await run([2, 3, 4, 5]);
    // Measured: 7 memories for all 30 cells (at most 2 cells at once, each holding its base model, its
    // fine-tune and a training run's memory), none made by the last 20; before, every model and fine-tune
    // made a new one.
    expect(made.n).toBeLessThanOrEqual(10);
    expect(made.n - afterFirst).toBeLessThanOrEqual(2);
    const { memoryStats } = await import('../../src/engine/kernels.js');
    const stats = memoryStats();
    expect(stats.created).toBe(made.n);
    expect(stats.reused).toBeGreaterThan(50);
    // Every cell disposed its models and every fine-tune freed its training memory: nothing left to the collector.
    expect(stats.inUse).toBe(0);
    expect(stats.free).toBe(made.n);
  });
});
