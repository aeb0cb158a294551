/**
 * Data-parallel training threads. Every worker instantiates the kernels on the training run's shared
 * WebAssembly.Memory and computes whole gradient shards into that shard's own buffer; the main thread then
 * sums the shard buffers in shard order. A shard's arithmetic does not depend on which thread runs it, so
 * results are bit-identical for any thread count and timing.
 */
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { EngineError } from '../errors.js';
import type { LlamaConfig } from './types.js';
import type { Acts, BatchIO, NetPtrs } from './transformer.js';

/** Default training threads: both cores of the reference machine, never more than the host has. */
export function defaultThreads(): number {
  return Math.max(1, Math.min(2, availableParallelism()));
}

/** What a worker needs once: the module, the memory and the pointers of everything it touches. */
export interface WorkerInit {
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  readonly config: LlamaConfig;
  readonly nets: readonly NetPtrs[];
  readonly ios: readonly BatchIO[];
  readonly acts: Acts;
}

/** One request: run these shards (each with its own sequence count) at sequence length T. */
export interface ShardJob {
  readonly shards: readonly { readonly shard: number; readonly B: number }[];
  readonly T: number;
  readonly invNorm: number;
}

type Reply = { ok: true; losses: number[] } | { ok: false; error: string };

/** A fixed set of worker threads, each with its own activation scratch. */
export class ShardPool {
  private constructor(private readonly workers: Worker[]) {}

  /** Starts one worker per init and waits until each has instantiated its kernels. */
  static async start(inits: readonly WorkerInit[]): Promise<ShardPool> {
    const here = fileURLToPath(import.meta.url);
    const ext = extname(here);
    const entry = new URL(`./parallel-worker${ext}`, import.meta.url).href;
    const boot = new URL('./parallel-boot.mjs', import.meta.url);
    const workers = inits.map((init) => new Worker(boot, { workerData: { entry, init } }));
    const pool = new ShardPool(workers);
    try {
      await Promise.all(workers.map((w) => pool.request(w, { ready: true })));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /** Runs a job on worker i; resolves with the shard losses in job order. */
  run(i: number, job: ShardJob): Promise<number[]> {
    return this.request(this.workers[i]!, job);
  }

  private request(w: Worker, msg: unknown): Promise<number[]> {
    return new Promise((resolve, reject) => {
      const onMessage = (r: Reply) => {
        cleanup();
        if (r.ok) resolve(r.losses);
        else reject(new EngineError(`training worker failed: ${r.error}`));
      };
      const onError = (err: Error) => {
        cleanup();
        reject(new EngineError(`training worker crashed: ${err.message}`, { cause: err }));
      };
      const onExit = (code: number) => {
        cleanup();
        reject(new EngineError(`training worker exited with code ${code}`));
      };
      const cleanup = () => {
        w.off('message', onMessage);
        w.off('error', onError);
        w.off('exit', onExit);
      };
      w.on('message', onMessage);
      w.on('error', onError);
      w.on('exit', onExit);
      w.postMessage(msg);
    });
  }

  /** Stops every worker. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
