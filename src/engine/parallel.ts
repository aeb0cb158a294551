/**
 * Data-parallel training threads. Every worker instantiates the kernels on the training run's shared
 * WebAssembly.Memory and computes whole gradient shards into that shard's own buffer. The optimizer's
 * elementwise work (summing the shards, clipping, AdamW, the natural-layout transposes, zeroing) is split by
 * tensor ranges between all threads; only the gradient norm, a reduction with a fixed summation order, runs
 * on the main thread. A shard's arithmetic and an element's update do not depend on which thread computes
 * them, so results are bit-identical for any thread count and timing.
 *
 * Workers are driven through a small control block in a SharedArrayBuffer (Atomics.wait/notify), not
 * postMessage: a step has three hand-offs (shards, reduce, update), and a message round trip through both
 * event loops costs more than the optimizer's share of a small model's step.
 */
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { EngineError } from '../errors.js';
import type { EngineExports, KernelPaths } from './kernels.js';
import type { LlamaConfig } from './types.js';
import type { Acts, NetPtrs, TrainIO } from './transformer.js';

/** Default training threads: both cores of the reference machine, never more than the host has. */
export function defaultThreads(): number {
  return Math.max(1, Math.min(2, availableParallelism()));
}

/** One thread's share of the optimizer work: floats [lo, hi) of the trainable block and the matrices in it. */
export interface UpdatePart {
  readonly lo: number;
  readonly hi: number;
  /** Transposes (src, dst, rows, cols) refreshing the natural copies of this range's matrices. */
  readonly transposes: readonly (readonly [number, number, number, number])[];
}

/**
 * Where the optimizer works: the trainable block (byte pointer, floats, weight-decayed prefix), the shard
 * gradients (summed into the first), the AdamW moments, and each thread's part (part 0 is the main thread's).
 */
export interface UpdatePlan {
  readonly ptr: number;
  readonly total: number;
  readonly decayFloats: number;
  readonly grads: readonly number[];
  readonly m: number;
  readonly v: number;
  readonly parts: readonly UpdatePart[];
}

/** One AdamW update (bias corrections for step t) and the factor the summed gradient is clipped by (1: none). */
export interface AdamStep {
  readonly gradScale: number;
  readonly lr: number;
  readonly b1: number;
  readonly b2: number;
  readonly eps: number;
  readonly wd: number;
  readonly bc1: number;
  readonly bc2: number;
}

/** Adds shards 1… into shard 0 over a part, in shard order, and zeroes them there. */
export function reducePart(k: EngineExports, plan: UpdatePlan, part: UpdatePart): void {
  const n = part.hi - part.lo;
  const o = part.lo * 4;
  const g0 = plan.grads[0]!;
  for (let s = 1; s < plan.grads.length; s++) {
    k.addInto(g0 + o, plan.grads[s]! + o, n);
    k.zeroF(plan.grads[s]! + o, n);
  }
}

/**
 * Clips and applies AdamW over a part (unless `step` is undefined), zeroes the summed gradient there and
 * refreshes the part's natural copies. AdamW runs as two calls over the whole block (decayed matrices, then
 * the norm vectors without decay), each vectorised from its start with a scalar tail; a part therefore starts
 * at a multiple of 4 floats from its segment's start (see TrainState.updatePlan) so every element takes the
 * same path, and the same bits, as in one call.
 */
export function applyPart(k: EngineExports, plan: UpdatePlan, part: UpdatePart, step: AdamStep | undefined): void {
  const g = plan.grads[0]!;
  if (step) {
    if (step.gradScale !== 1) k.scale(g + part.lo * 4, part.hi - part.lo, step.gradScale);
    const segment = (from: number, to: number, wd: number) => {
      const lo = Math.max(from, part.lo), hi = Math.min(to, part.hi);
      if (hi <= lo) return;
      const o = lo * 4;
      k.adamw(plan.ptr + o, g + o, plan.m + o, plan.v + o, hi - lo, step.lr, step.b1, step.b2, step.eps, wd, step.bc1, step.bc2);
    };
    segment(0, plan.decayFloats, step.wd);
    segment(plan.decayFloats, plan.total, 0);
    for (const [src, dst, rows, cols] of part.transposes) k.transpose(src, dst, rows, cols);
  }
  k.zeroF(g + part.lo * 4, part.hi - part.lo);
}

/** What a worker needs once: the module, the memory, the pointers of everything it touches, its control block. */
export interface WorkerInit {
  readonly module: WebAssembly.Module;
  /** The module's build and the GEMM path of the thread that started the run (the worker computes the same way). */
  readonly paths: KernelPaths;
  readonly memory: WebAssembly.Memory;
  readonly config: LlamaConfig;
  readonly nets: readonly NetPtrs[];
  readonly ios: readonly TrainIO[];
  readonly acts: Acts;
  readonly plan: UpdatePlan;
  /** Index of this worker's part in plan.parts. */
  readonly part: number;
  readonly control: SharedArrayBuffer;
}

/** One request: run these shards (each with its own sequence count) at sequence length T. */
export interface ShardJob {
  readonly shards: readonly { readonly shard: number; readonly B: number }[];
  readonly T: number;
  readonly invNorm: number;
}

/** Commands a worker runs. */
export const Op = { Shards: 1, Reduce: 2, Apply: 3, Exit: 4 } as const;
type OpCode = (typeof Op)[keyof typeof Op];

/** Most shards one job can carry. */
const MAX_JOBS = 16;
/** Longest error message a worker reports (UTF-16 units). */
const MAX_ERROR = 1000;
/**
 * Control block: Int32 words [seq, done, op, failed, T, nJobs, errorLength, (shard, B)×MAX_JOBS], then
 * Float64 words [invNorm or the AdamStep's 8 numbers and a has-step flag, MAX_JOBS losses], then the error text.
 */
export const CTL = { seq: 0, done: 1, op: 2, failed: 3, T: 4, nJobs: 5, errLen: 6, jobs: 7 } as const;
/** Float64 words: the arguments start at 0, the losses at LOSSES. */
export const LOSSES = 10;
const STEP_FIELDS = ['gradScale', 'lr', 'b1', 'b2', 'eps', 'wd', 'bc1', 'bc2'] as const satisfies readonly (keyof AdamStep)[];
const HAS_STEP = STEP_FIELDS.length;
const INTS = CTL.jobs + 2 * MAX_JOBS;
const F64_OFFSET = Math.ceil((INTS * 4) / 8) * 8;
const F64S = LOSSES + MAX_JOBS;
const ERR_OFFSET = F64_OFFSET + F64S * 8;
const CONTROL_BYTES = ERR_OFFSET + MAX_ERROR * 2;

/** Typed views of a control block. */
export interface Control {
  readonly i32: Int32Array;
  /** Arguments, then shard losses from LOSSES. */
  readonly f64: Float64Array;
  readonly err: Uint16Array;
}

/** Views of a control block (both sides). */
export function controlViews(sab: SharedArrayBuffer): Control {
  return { i32: new Int32Array(sab, 0, INTS), f64: new Float64Array(sab, F64_OFFSET, F64S), err: new Uint16Array(sab, ERR_OFFSET, MAX_ERROR) };
}

/** Arguments of Op.Apply as f64 words (exact: the worker computes with the same numbers as the main thread). */
export function writeStep(f64: Float64Array, s: AdamStep | undefined): void {
  STEP_FIELDS.forEach((f, i) => (f64[i] = s ? s[f] : 0));
  f64[HAS_STEP] = s ? 1 : 0;
}

/** Reads what writeStep wrote. */
export function readStep(f64: Float64Array): AdamStep | undefined {
  if (f64[HAS_STEP] !== 1) return undefined;
  return Object.fromEntries(STEP_FIELDS.map((f, i) => [f, f64[i]!])) as unknown as AdamStep;
}

/** Records a failure in the control block (worker side). */
export function writeError(c: Control, message: string): void {
  const text = message.slice(0, MAX_ERROR);
  for (let i = 0; i < text.length; i++) c.err[i] = text.charCodeAt(i);
  c.i32[CTL.errLen] = text.length;
  c.i32[CTL.failed] = 1;
}

/** A worker and its control block. */
interface Lane {
  readonly worker: Worker;
  readonly c: Control;
  /** Sequence number and command of the last command sent. */
  seq: number;
  op: OpCode;
  /** Set by the worker's error/exit events (seen when the main thread yields while waiting). */
  dead?: EngineError;
  readonly onError: (err: Error) => void;
  readonly onExit: (code: number) => void;
}

/** How long the main thread blocks before yielding to its event loop to notice a crashed worker (ms). */
const WAIT_SLICE_MS = 250;

/** Atomics.waitAsync (ES2024; Node ≥ 16), typed here because the project's lib is ES2023. */
const waitAsync = (Atomics as unknown as {
  waitAsync(a: Int32Array, index: number, value: number, timeout: number): { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
}).waitAsync.bind(Atomics);

/**
 * Booted workers between runs. A worker serves one run at a time and then waits for the next init message
 * (parallel-worker.ts), so fine-tunes after the first do not pay a thread's start-up (under tsx about half a
 * second: a new isolate, the loader, the engine's modules). Idle workers are unref'd: they never keep the
 * process alive.
 */
const idle: Worker[] = [];
/** Most idle workers kept (more are terminated when their run ends). */
const MAX_IDLE = 4;
/** Workers started in this thread (for tests and the throughput bench: reuse shows as fewer boots than runs). */
export const workerStats = { booted: 0, reused: 0 };

function bootWorker(): Promise<Worker> {
  const here = fileURLToPath(import.meta.url);
  const entry = new URL(`./parallel-worker${extname(here)}`, import.meta.url).href;
  const worker = new Worker(new URL('./parallel-boot.mjs', import.meta.url), { workerData: { entry } });
  workerStats.booted++;
  return new Promise<Worker>((resolve, reject) => {
    const done = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const onMessage = () => {
      done();
      resolve(worker);
    };
    const onError = (err: Error) => {
      done();
      void worker.terminate();
      reject(new EngineError(`training worker failed to start: ${err.message}`, { cause: err }));
    };
    const onExit = (code: number) => {
      done();
      reject(new EngineError(`training worker exited with code ${code} while starting`));
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

/** Terminates the idle workers (tests; a process that ends does not need it: idle workers are unref'd). */
export async function closeIdleWorkers(): Promise<void> {
  await Promise.all(idle.splice(0).map((w) => w.terminate()));
}

/**
 * A fixed set of worker threads, each with its own activation scratch and share of the optimizer work.
 * `asyncWait`: the calling thread waits for the workers with Atomics.waitAsync, so its event loop keeps
 * running (another cell's verification, another fine-tune's hand-offs) while they compute; otherwise it
 * blocks in Atomics.wait (lowest latency when it computes shards itself).
 */
export class ShardPool {
  private constructor(private readonly lanes: Lane[], private readonly asyncWait: boolean) {}

  /** Takes an idle worker (or boots one) per init and waits until each has instantiated its kernels. */
  static async start(inits: readonly Omit<WorkerInit, 'control'>[], options: { asyncWait?: boolean } = {}): Promise<ShardPool> {
    const lanes: Lane[] = [];
    const pool = new ShardPool(lanes, options.asyncWait ?? false);
    try {
      const workers = await Promise.all(
        inits.map(() => {
          const reused = idle.pop();
          if (reused) workerStats.reused++;
          return reused ?? bootWorker();
        }),
      );
      for (const [i, worker] of workers.entries()) {
        worker.ref();
        const control = new SharedArrayBuffer(CONTROL_BYTES);
        const lane: Lane = {
          worker,
          c: controlViews(control),
          seq: 0,
          op: Op.Exit,
          onError: (err) => (lane.dead ??= new EngineError(`training worker crashed: ${err.message}`, { cause: err })),
          onExit: (code) => (lane.dead ??= new EngineError(`training worker exited with code ${code}`)),
        };
        worker.on('error', lane.onError);
        worker.on('exit', lane.onExit);
        lanes.push(lane);
        worker.postMessage({ init: { ...inits[i]!, control } });
      }
      // Each worker posts once it has instantiated the kernels on this run's memory, then only listens to its
      // control block.
      await Promise.all(
        lanes.map(
          (lane) =>
            new Promise<void>((resolve, reject) => {
              const poll = setInterval(() => {
                if (!lane.dead) return;
                clearInterval(poll);
                reject(lane.dead);
              }, WAIT_SLICE_MS);
              lane.worker.once('message', (m: { ready?: boolean; failed?: string }) => {
                clearInterval(poll);
                if (m.ready) return resolve();
                // It never entered the run's command loop: not reusable (close terminates it).
                lane.dead ??= new EngineError(`training worker failed to start: ${m.failed ?? 'no ready message'}`);
                reject(lane.dead);
              });
            }),
        ),
      );
    } catch (err) {
      await pool.close();
      throw err instanceof EngineError ? err : new EngineError(`training worker failed to start: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    return pool;
  }

  /** Worker count. */
  get size(): number {
    return this.lanes.length;
  }

  /** Starts a shard job on worker i (collect it with `wait`). */
  runShards(i: number, job: ShardJob): void {
    if (job.shards.length > MAX_JOBS) throw new EngineError(`a training worker takes at most ${MAX_JOBS} shards per job, got ${job.shards.length}`);
    const { i32, f64 } = this.lanes[i]!.c;
    i32[CTL.T] = job.T;
    i32[CTL.nJobs] = job.shards.length;
    job.shards.forEach(({ shard, B }, j) => {
      i32[CTL.jobs + 2 * j] = shard;
      i32[CTL.jobs + 2 * j + 1] = B;
    });
    f64[0] = job.invNorm;
    this.send(i, Op.Shards);
  }

  /** Starts worker i's part of the gradient sum. */
  reduce(i: number): void {
    this.send(i, Op.Reduce);
  }

  /** Starts worker i's part of the update (undefined: only zero its gradient range). */
  apply(i: number, step: AdamStep | undefined): void {
    writeStep(this.lanes[i]!.c.f64, step);
    this.send(i, Op.Apply);
  }

  /**
   * Waits until worker i has finished its last command; returns the shard losses of a shard job (in job
   * order). Blocking (not asyncWait) yields to the event loop every WAIT_SLICE_MS so that a crashed worker is
   * noticed.
   */
  async wait(i: number): Promise<number[]> {
    const lane = this.lanes[i]!;
    const { i32, f64, err } = lane.c;
    for (;;) {
      const done = Atomics.load(i32, CTL.done);
      if (done === lane.seq) break;
      if (lane.dead) throw lane.dead;
      if (this.asyncWait) {
        const r = waitAsync(i32, CTL.done, done, WAIT_SLICE_MS);
        if (r.async) await r.value;
      } else if (Atomics.wait(i32, CTL.done, done, WAIT_SLICE_MS) === 'timed-out') {
        await new Promise((r) => setImmediate(r));
      }
    }
    if (i32[CTL.failed]) {
      i32[CTL.failed] = 0;
      throw new EngineError(`training worker failed: ${String.fromCharCode(...err.subarray(0, i32[CTL.errLen]!))}`);
    }
    return lane.op === Op.Shards ? Array.from(f64.subarray(LOSSES, LOSSES + i32[CTL.nJobs]!)) : [];
  }

  /** Waits for every worker. */
  async waitAll(): Promise<void> {
    for (let i = 0; i < this.lanes.length; i++) await this.wait(i);
  }

  private send(i: number, op: OpCode): void {
    const lane = this.lanes[i]!;
    if (lane.dead) throw lane.dead;
    const { i32 } = lane.c;
    i32[CTL.op] = op;
    lane.op = op;
    lane.seq = (lane.seq + 1) | 0;
    // The store is sequentially consistent: the worker sees the arguments written above once it sees seq.
    Atomics.store(i32, CTL.seq, lane.seq);
    Atomics.notify(i32, CTL.seq);
  }

  /**
   * Ends the run on every worker: a live worker that acknowledges goes back to the idle set (up to MAX_IDLE),
   * any other is terminated.
   */
  async close(): Promise<void> {
    for (const [i, lane] of this.lanes.entries()) {
      let reusable = !lane.dead;
      if (reusable) {
        try {
          this.send(i, Op.Exit);
          await this.wait(i);
        } catch {
          reusable = false;
        }
      }
      lane.worker.off('error', lane.onError);
      lane.worker.off('exit', lane.onExit);
      if (reusable && !lane.dead && idle.length < MAX_IDLE) {
        lane.worker.unref();
        idle.push(lane.worker);
      } else {
        await lane.worker.terminate();
      }
    }
    this.lanes.length = 0;
  }
}
